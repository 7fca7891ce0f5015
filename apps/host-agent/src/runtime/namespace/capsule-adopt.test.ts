import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CAPSULE_ADOPT_SCRIPT, capsuleInitPid, planAdopt } from "./capsule-adopt.js";

describe("planAdopt", () => {
  it("runs the fixed script under the host's perl with every value as an argument", () => {
    const argv = planAdopt({ arch: "x64", initPid: 4242, hostname: "sb-1", tmpfsMiB: 150 });
    assert.deepEqual(argv, ["/usr/bin/perl", "-e", CAPSULE_ADOPT_SCRIPT, "--", "x64", "4242", "sb-1", "150m"]);
  });

  it("refuses values that could not be what the runtime meant", () => {
    const ok = { arch: "x64" as const, initPid: 4242, hostname: "sb-1", tmpfsMiB: 150 };
    assert.throws(() => planAdopt({ ...ok, initPid: 1 }), /init pid/);
    assert.throws(() => planAdopt({ ...ok, initPid: 1.5 }), /init pid/);
    assert.throws(() => planAdopt({ ...ok, tmpfsMiB: 0 }), /tmpfs/);
    assert.throws(() => planAdopt({ ...ok, hostname: "Bad Name" }), /hostname/);
    assert.throws(() => planAdopt({ ...ok, hostname: "" }), /hostname/);
  });
});

describe("capsuleInitPid", () => {
  it("finds the only child of a process (the launcher's PID 1), undefined without one", async (t) => {
    // A parent with exactly one child, like `unshare --fork` and the capsule's init.
    const parent = spawn("/bin/sh", ["-c", "sleep 30 & wait"], { stdio: "ignore" });
    t.after(() => parent.kill("SIGKILL"));
    const pid = parent.pid ?? 0;
    let child: number | undefined;
    for (let i = 0; i < 200 && child === undefined; i++) {
      child = await capsuleInitPid(pid);
      if (child === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(child !== undefined, "the child was found");
    assert.equal(readFileSync(`/proc/${child}/comm`, "utf8").trim(), "sleep");
    assert.equal(await capsuleInitPid(child), undefined, "sleep has no child");
    process.kill(child, "SIGKILL");
  });
});
