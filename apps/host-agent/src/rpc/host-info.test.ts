import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { diskSpaceMb } from "./lifecycle.js";
import { harness } from "./rpc-test-helpers.js";

/** `df` in MiB for the filesystem of `dir`: [size, avail]. */
function df(dir: string): [number, number] {
  const out = execFileSync("df", ["--block-size=1M", "--output=size,avail", dir], { encoding: "utf8" });
  const [size, avail] = (out.trim().split("\n")[1] ?? "").trim().split(/\s+/).map(Number);
  return [size ?? Number.NaN, avail ?? Number.NaN];
}

describe("GetHostInfo", () => {
  it("reports size and free space of the filesystem holding the data dir, as df sees them", async () => {
    await using h = await harness();
    const info = await h.client.getHostInfo({});
    const [size, avail] = df(h.tm.stateRoot);
    assert.equal(info.cpuCount, availableParallelism());
    assert.ok(info.memoryMb > 0n);
    // df rounds up to whole MiB, we round down.
    assert.ok(Math.abs(Number(info.diskMb) - size) <= 1, `disk_mb ${info.diskMb} vs df size ${size}`);
    // Other work on this shared machine writes meanwhile: free space may move a little.
    assert.ok(Math.abs(Number(info.diskFreeMb) - avail) <= 256, `disk_free_mb ${info.diskFreeMb} vs df avail ${avail}`);
    assert.ok(info.diskFreeMb > 0n && info.diskFreeMb <= info.diskMb);
  });

  it("diskSpaceMb: whole MiB rounded down, free is what non-root may still use, exact beyond 2^53", () => {
    assert.deepEqual(diskSpaceMb({ bsize: 4096n, blocks: 2_621_440n, bavail: 256_001n }), {
      totalMb: 10_240n,
      freeMb: 1000n,
    });
    // 64 EiB of 4 KiB blocks: a Number would lose the last MiB.
    assert.deepEqual(diskSpaceMb({ bsize: 4096n, blocks: 2n ** 54n + 256n, bavail: 0n }), {
      totalMb: 2n ** 46n + 1n,
      freeMb: 0n,
    });
  });
});
