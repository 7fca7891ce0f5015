import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ApiError } from "../http/api-error.js";
import { capacityOf, type HostLoad, pickHost } from "./scheduler.js";

function host(id: string, over: Partial<HostLoad> = {}): HostLoad {
  return {
    id,
    type: "regular",
    teamId: null,
    address: `127.0.0.1:${id.length}`,
    cpuCores: 8,
    memoryMb: 32_768,
    diskGb: 200,
    runningVcpus: 0,
    runningMemoryMb: 0,
    runningDiskMb: 0,
    pausedMemoryMb: 0,
    pausedDiskMb: 0,
    ...over,
  };
}
const req = { teamId: "t1", isByoc: false, memoryMb: 512, diskMb: 5120 };

function rejects503(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 503 && pattern.test(e.message));
}

describe("pickHost", () => {
  test("reserve: 8 GiB / 30 GiB on big hosts, a quarter on small ones", () => {
    assert.deepEqual(capacityOf(host("a")), { ramMb: 24_576, cpu: 8, diskMb: 204_800 - 30_720 });
    const small = capacityOf(host("s", { memoryMb: 8192, diskGb: 40, cpuCores: 2 }));
    assert.deepEqual(small, { ramMb: 6144, cpu: 1, diskMb: 30_720 });
  });

  test("the least loaded host by its scarcest resource wins", () => {
    const busyRam = host("busy-ram", { runningMemoryMb: 20_000 });
    const busyCpu = host("busy-cpu", { runningVcpus: 7 });
    const calm = host("calm", { runningMemoryMb: 2_000, runningVcpus: 1 });
    assert.equal(pickHost([busyRam, busyCpu, calm], req).id, "calm");
  });

  test("paused capsules count half their memory and two thirds of their disk", () => {
    // 24 576 usable MB; 48 000 MB paused counts 24 000 → 576 left: too little for 1024.
    const h = host("p", { pausedMemoryMb: 48_000 });
    rejects503(() => pickHost([h], { ...req, memoryMb: 1024 }), /need 1024 MB memory/);
    assert.equal(pickHost([h], { ...req, memoryMb: 512 }).id, "p");
  });

  test("admission control: no room for memory or disk → 503 saying what was needed", () => {
    const full = host("full", { runningMemoryMb: 24_300 });
    rejects503(() => pickHost([full], req), /need 512 MB memory, 5120 MB disk/);
    const noDisk = host("nodisk", { runningDiskMb: 170_000 });
    rejects503(() => pickHost([noDisk], req), /sufficient resources/);
  });

  test("CPU may be overcommitted", () => {
    const h = host("cpu", { runningVcpus: 40 });
    assert.equal(pickHost([h], req).id, "cpu");
  });

  test("BYOC teams use only their own hosts; others only platform hosts", () => {
    const platform = host("platform");
    const mine = host("mine", { type: "byoc", teamId: "t1" });
    const theirs = host("theirs", { type: "byoc", teamId: "t2" });
    assert.equal(pickHost([platform, mine, theirs], { ...req, isByoc: true }).id, "mine");
    assert.equal(pickHost([mine, theirs, platform], req).id, "platform");
    rejects503(() => pickHost([theirs, platform], { ...req, isByoc: true }), /BYOC/);
    rejects503(() => pickHost([mine], req), /no online hosts/);
    rejects503(() => pickHost([], req), /no online hosts/);
  });
});
