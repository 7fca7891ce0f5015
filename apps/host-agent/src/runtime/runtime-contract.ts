import assert from "node:assert/strict";
import { it } from "node:test";
import { envdExec } from "./namespace/envd-exec.js";
import { probeHealth } from "./namespace/health.js";
import type { Runtime, SandboxSpec } from "./runtime.js";

/** What a contract run needs from the implementation's test file. @internal */
export interface RuntimeContractSetup {
  readonly runtime: Runtime;
  /** A fresh spec with its own network slot; disposing releases the slot. */
  makeSpec(): Promise<SandboxSpec & AsyncDisposable>;
  /** Health probe timeout while paused: a paused capsule must not answer within it. @default 300 */
  readonly pausedProbeMs?: number;
}

const healthy = (s: number | undefined) => s !== undefined && s >= 200 && s < 300;

/**
 * The behaviour every Runtime shares: create resolves once envd is healthy, commands run,
 * pause stops the capsule (memory mode keeps in-memory state), resume brings it back, and
 * dispose ends it (`exited` resolves). Call inside a describe() of the implementation's test.
 * @internal
 */
export function runtimeContract(name: string, setup: () => RuntimeContractSetup): void {
  it(`${name}: is available`, async () => {
    const a = await setup().runtime.availability();
    assert.equal(a.available, true, a.reason);
    assert.ok(a.reason.length > 0);
  });

  it(`${name}: create → healthy envd that runs commands; dispose → exited`, async () => {
    const s = setup();
    await using spec = await s.makeSpec();
    const h = await s.runtime.create(spec);
    try {
      assert.ok(healthy(await probeHealth(`${h.envdUrl}/health`, 2000)));
      const r = await envdExec(h.envdUrl, "echo contract-$((40+2))");
      assert.deepEqual([r.stdout, r.exitCode], ["contract-42\n", 0]);
      const u = await h.usage();
      assert.ok(u.cpuUsageMicros >= 0 && u.memoryBytes > 0 && u.diskBytes >= 0, JSON.stringify(u));
    } finally {
      await h[Symbol.asyncDispose]();
    }
    const exit = await h.exited;
    assert.ok(exit.code !== undefined || exit.signal !== undefined);
    assert.equal(await probeHealth(`${h.envdUrl}/health`, 300), undefined, "nothing answers after dispose");
  });

  it(`${name}: pause/resume keeps in-memory state`, async () => {
    const s = setup();
    await using spec = await s.makeSpec();
    await using h = await s.runtime.create(spec);
    await envdExec(h.envdUrl, "echo kept > /tmp/contract-state");
    const mode = await h.pause();
    if (mode === "memory") {
      assert.equal(await probeHealth(`${h.envdUrl}/health`, s.pausedProbeMs ?? 300), undefined, "paused: no answer");
    }
    await h.resume();
    assert.ok(healthy(await probeHealth(`${h.envdUrl}/health`, 5000)), "healthy after resume");
    assert.equal((await envdExec(h.envdUrl, "cat /tmp/contract-state")).stdout, "kept\n");
  });

  it(`${name}: create honours an aborted signal and leaves nothing behind`, async () => {
    const s = setup();
    await using spec = await s.makeSpec();
    const ac = new AbortController();
    ac.abort(new Error("caller gave up"));
    await assert.rejects(s.runtime.create(spec, ac.signal), /caller gave up/);
  });
}
