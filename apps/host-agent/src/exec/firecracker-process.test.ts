import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeFakeFirecrackerBinaries } from "../runtime/firecracker/fake-fc-binary.js";
import { FirecrackerProcess, firecrackerArgv } from "./firecracker-process.js";

// nsenter into our own network namespace still needs CAP_SYS_ADMIN.
const skip = process.getuid?.() !== 0 ? "needs root (nsenter --net)" : false;
const OWN_NETNS = "/proc/self/ns/net";
let dir = "";
let serving = "";
let failing = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "fc-proc-"));
  // Stand-in executables: no firecracker binary exists here, so node scripts play it.
  ({ serving, failing } = await writeFakeFirecrackerBinaries(dir));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("firecracker process", () => {
  it("argv enters the netns with nsenter and execs firecracker (pid = firecracker's)", () => {
    assert.deepEqual(
      firecrackerArgv({ binary: "/usr/bin/firecracker", apiSocket: "/s/fc.sock", netnsPath: "/run/netns/w-1" }),
      ["nsenter", "--net=/run/netns/w-1", "--", "/usr/bin/firecracker", "--api-sock", "/s/fc.sock"],
    );
  });

  it("waits for the API socket, then SIGTERM on dispose ends it", { skip }, async () => {
    const apiSocket = join(dir, "a.sock");
    const proc = await FirecrackerProcess.spawn({ binary: serving, apiSocket, netnsPath: OWN_NETNS });
    await proc.waitForSocket(10_000);
    assert.ok(proc.pid > 0);
    await proc[Symbol.asyncDispose]();
    const exit = await proc.exited;
    assert.equal(exit.code, 0, exit.output);
    assert.throws(() => process.kill(proc.pid, 0), /ESRCH/, "process is gone");
  });

  it("reports an immediate exit with its output instead of waiting for the socket", { skip }, async () => {
    const proc = await FirecrackerProcess.spawn({
      binary: failing,
      apiSocket: join(dir, "b.sock"),
      netnsPath: OWN_NETNS,
    });
    await using _p = proc;
    await assert.rejects(
      proc.waitForSocket(10_000),
      /exited \(1\) before its API socket appeared: Error: \/dev\/kvm: Permission denied/,
    );
  });

  it("gives up after the timeout and honours an AbortSignal", { skip }, async () => {
    const sleeper = join(dir, "sleeper.mjs");
    await writeFile(sleeper, `#!${process.execPath}\nsetInterval(() => {}, 1000);\n`);
    await chmod(sleeper, 0o755);
    await using proc = await FirecrackerProcess.spawn({
      binary: sleeper,
      apiSocket: join(dir, "c.sock"),
      netnsPath: OWN_NETNS,
      killAfterMs: 200,
    });
    await assert.rejects(proc.waitForSocket(100), /did not appear in 100 ms/);
    await assert.rejects(proc.waitForSocket(10_000, AbortSignal.timeout(50)), { name: "TimeoutError" });
  });

  it("rejects when nsenter cannot enter the namespace", { skip }, async () => {
    const proc = await FirecrackerProcess.spawn({
      binary: serving,
      apiSocket: join(dir, "d.sock"),
      netnsPath: join(dir, "no-such-netns"),
    });
    await using _p = proc;
    await assert.rejects(proc.waitForSocket(10_000), /exited \(1\).*nsenter/);
  });
});
