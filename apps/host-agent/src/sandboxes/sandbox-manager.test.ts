import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import type { Runtime } from "../runtime/runtime.js";
import { LoopbackRuntime, procStat } from "./loopback-runtime.js";
import { PAUSE_METADATA_FILE, readPauseMetadata } from "./pause-metadata.js";
import { envdSkip, input, testManager, until, wallManualClock } from "./sandbox-test-helpers.js";

const rejectsWith = (p: Promise<unknown>, code: string, reason: string) =>
  assert.rejects(p, (e: unknown) => e instanceof PlatformError && e.code === code && e.reason === reason);

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("SandboxManager on LoopbackRuntime (real envd processes)", { skip: envdSkip }, () => {
  it("create → pause → resume keeps a process alive and hands the template id back", async (t) => {
    await using tm = await testManager();
    const { mgr } = tm;
    const started = Date.now();
    const rec = await mgr.create(input("sb-life", { templateId: "tpl-python", envVars: { FOO: "bar" } }));
    t.diagnostic(`create took ${Date.now() - started} ms`);
    assert.equal(rec.status, "running");
    assert.deepEqual(
      mgr.list().map((r) => [r.id, r.status]),
      [["sb-life", "running"]],
    );
    assert.equal(tm.network.held().length, 1);
    const url = rec.envdUrl ?? "";
    assert.equal((await fetch(`${url}/health`)).status, 200);
    // Written once at create (nothing in it changes), so a pause has no file to write.
    const metaPath = join(tm.stateRoot, "sb-life", PAUSE_METADATA_FILE);
    assert.deepEqual(await readPauseMetadata(join(tm.stateRoot, "sb-life")), {
      sandboxId: "sb-life",
      templateId: "tpl-python",
    });
    const writtenAt = (await stat(metaPath)).mtimeMs;

    // A long-lived process started through envd's Connect API, stream kept open.
    const envd = mgr.envd("sb-life");
    const ac = new AbortController();
    let pid = 0;
    const gotPid = (async () => {
      try {
        for await (const r of envd.process.start(
          { process: { cmd: "/bin/sleep", args: ["300"], envs: {} } },
          { signal: ac.signal },
        )) {
          const ev = r.event?.event;
          if (ev?.case === "start") pid = ev.value.pid;
        }
      } catch {
        // Aborted at the end of the test or cut by destroy.
      }
    })();
    assert.ok(await until(() => pid > 0, 5000), "process started");

    const p0 = Date.now();
    const paused = await mgr.pause("sb-life");
    t.diagnostic(`pause took ${Date.now() - p0} ms`);
    assert.equal(paused.status, "paused");
    assert.equal(paused.pauseMode, "memory");
    assert.equal((await procStat(pid))?.state, "T", "the user process is frozen with envd");
    const meta = JSON.parse(await readFile(metaPath, "utf8"));
    assert.equal(meta.templateId, "tpl-python");
    assert.equal((await stat(metaPath)).mtimeMs, writtenAt, "the pause did not rewrite the metadata");

    const r0 = Date.now();
    const resumed = await mgr.resume("sb-life");
    t.diagnostic(`resume took ${Date.now() - r0} ms`);
    assert.equal(resumed.status, "running");
    assert.notEqual((await procStat(pid))?.state, "T");
    const listed = await envd.process.list({});
    assert.ok(
      listed.processes.some((p) => p.pid === pid),
      "the process from before the pause is still there",
    );
    const envs = (await (await fetch(`${url}/envs`)).json()) as Record<string, string>;
    assert.equal(envs["WRENN_TEMPLATE_ID"], "tpl-python");
    assert.equal(envs["WRENN_SANDBOX_ID"], "sb-life");
    assert.equal(envs["FOO"], "bar");

    ac.abort();
    await gotPid;
    await mgr.destroy("sb-life");
    assert.deepEqual(mgr.list(), []);
    assert.deepEqual(tm.network.held(), []);
    assert.equal(await procStat(pid), undefined, "destroy killed the process tree");
  });

  it("illegal transitions and unknown ids give the right PlatformError; destroy is idempotent", async () => {
    const evicted: string[] = [];
    await using tm = await testManager({ onDestroy: (id) => evicted.push(id) });
    const { mgr } = tm;
    await rejectsWith(mgr.pause("nope"), "not_found", "SANDBOX_NOT_FOUND");
    await rejectsWith(mgr.resume("nope"), "not_found", "SANDBOX_NOT_FOUND");
    assert.throws(
      () => mgr.ping("nope"),
      (e: unknown) => e instanceof PlatformError && e.code === "not_found",
    );
    assert.equal(mgr.guestAddress("nope"), undefined);
    const creating = mgr.create(input("sb-x"));
    assert.equal(mgr.guestAddress("sb-x"), undefined, "not reachable while being created");
    const rec = await creating;
    // The proxy's per-request lookup: the guest address, no copy made per call.
    const running = mgr.guestAddress("sb-x");
    assert.deepEqual(running, { guestIp: new URL(rec.envdUrl ?? "").hostname, paused: false });
    assert.equal(mgr.guestAddress("sb-x"), running, "the same frozen answer every time");
    await rejectsWith(mgr.create(input("sb-x")), "already_exists", "SANDBOX_EXISTS");
    await rejectsWith(mgr.resume("sb-x"), "failed_precondition", "SANDBOX_NOT_PAUSED");
    await mgr.pause("sb-x");
    assert.deepEqual(mgr.guestAddress("sb-x"), { guestIp: running?.guestIp, paused: true });
    await rejectsWith(mgr.pause("sb-x"), "failed_precondition", "SANDBOX_NOT_RUNNING");
    await Promise.all([mgr.destroy("sb-x"), mgr.destroy("sb-x")]);
    assert.equal(mgr.guestAddress("sb-x"), undefined, "gone after destroy");
    await mgr.destroy("sb-x");
    assert.deepEqual(evicted, ["sb-x"], "proxy eviction hook ran exactly once");
    await rejectsWith(mgr.resume("sb-x"), "not_found", "SANDBOX_NOT_FOUND");
    assert.deepEqual(tm.network.held(), []);
  });

  it("concurrent pause calls on one capsule are serialized: one wins, one is refused", async () => {
    await using tm = await testManager();
    await tm.mgr.create(input("sb-race"));
    const results = await Promise.allSettled([tm.mgr.pause("sb-race"), tm.mgr.pause("sb-race")]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  });

  it("a failure at any step of create releases everything acquired so far", async () => {
    // Runtime fails after the slot is taken.
    const failing: Runtime = {
      kind: "namespace",
      availability: async () => ({ available: true, reason: "test" }),
      create: async () => {
        throw new Error("boom: runtime failed");
      },
    };
    {
      await using tm = await testManager({ runtime: failing });
      await assert.rejects(tm.mgr.create(input("sb-f1")), /boom/);
      assert.deepEqual(tm.network.held(), []);
      assert.deepEqual(tm.mgr.list(), []);
    }
    // envd /init fails after the real envd process started: that process must be gone too.
    {
      const real = new LoopbackRuntime();
      const exits: Promise<unknown>[] = [];
      const spying: Runtime = {
        kind: real.kind,
        availability: () => real.availability(),
        create: async (spec, signal) => {
          const h = await real.create(spec, signal);
          exits.push(h.exited);
          return h;
        },
      };
      await using tm = await testManager({ runtime: spying });
      await assert.rejects(
        tm.mgr.create(input("sb-f2", { defaultUser: "no-such-user-xyz" })),
        (e: unknown) => e instanceof Error && /400/.test(e.message),
      );
      assert.deepEqual(tm.network.held(), []);
      assert.deepEqual(tm.mgr.list(), []);
      assert.equal(exits.length, 1);
      await exits[0]; // the envd process started for the failed capsule has exited
    }
  });

  it("a capsule whose envd dies is released and forgotten (not listed as running forever)", async () => {
    await using tm = await testManager();
    const { mgr } = tm;
    await mgr.create(input("sb-crash"));
    await mgr.create(input("sb-fine"));
    // The command's parent is envd: kill it the way the OOM killer would.
    try {
      for await (const _ of mgr.envd("sb-crash").process.start({
        process: { cmd: "/bin/sh", args: ["-c", "kill -KILL $PPID"], envs: {} },
      }));
    } catch {
      // The stream ends with envd.
    }
    assert.ok(await until(() => !mgr.has("sb-crash"), 10_000), "the dead capsule is forgotten");
    await rejectsWith(mgr.pause("sb-crash"), "not_found", "SANDBOX_NOT_FOUND");
    assert.deepEqual(
      mgr.list().map((r) => [r.id, r.status]),
      [["sb-fine", "running"]],
    );
    assert.equal(tm.network.held().length, 1, "its network slot is back in the pool");
    await mgr.destroy("sb-fine");
  });

  it("TTL reaper auto-pauses an idle capsule once and reports it once", async () => {
    const clock = wallManualClock();
    await using tm = await testManager({ clock, reaperIntervalMs: 2000 });
    const { mgr } = tm;
    await mgr.create(input("sb-idle", { timeoutSec: 1 }));
    await mgr.create(input("sb-forever", { timeoutSec: 0 }));
    await clock.advance(500);
    mgr.ping("sb-idle");
    await clock.advance(2100);
    assert.ok(await until(() => mgr.get("sb-idle").status === "paused", 5000), "idle capsule auto-paused");
    assert.equal(mgr.get("sb-forever").status, "running", "timeoutSec 0 never expires");
    assert.deepEqual(mgr.drainAutoPaused(), ["sb-idle"]);
    assert.deepEqual(mgr.drainAutoPaused(), []);
    await clock.advance(4000);
    assert.deepEqual(mgr.drainAutoPaused(), [], "a paused capsule is not paused again");
    await mgr.resume("sb-idle");
    assert.equal(mgr.get("sb-idle").status, "running");
  });

  it("100 pause/resume cycles leave no extra active timers (sampler-leak regression)", async (t) => {
    await using tm = await testManager({ reaperIntervalMs: 60_000 });
    await tm.mgr.create(input("sb-cycle"));
    const before = timeouts();
    const started = Date.now();
    for (let i = 0; i < 100; i++) {
      await tm.mgr.pause("sb-cycle");
      await tm.mgr.resume("sb-cycle");
    }
    const ms = Date.now() - started;
    t.diagnostic(`100 pause/resume cycles: ${ms} ms (${(ms / 100).toFixed(1)} ms per cycle)`);
    const after = timeouts();
    t.diagnostic(`active Timeouts before ${before}, after ${after}`);
    assert.ok(after <= before, `timers grew from ${before} to ${after}`);
    assert.equal(tm.mgr.get("sb-cycle").status, "running");
  });
});
