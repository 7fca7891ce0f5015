/**
 * Create → first command (`true` returning), sequential and 10 at once, next to the same-run
 * floor. Namespace: sequential creates are measured both from the warm pool (a capsule
 * launched ahead of time, claimed) and cold (launched for the request), interleaved so both
 * see the same load.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ExecFileRunner } from "../../apps/host-agent/src/exec/command-runner.js";
import { QemuRuntime } from "../../apps/host-agent/src/runtime/qemu/qemu-runtime.js";
import { below, fmtRatio, fmtSummary } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import type { Row } from "../lib/table.js";
import { type BenchAgent, WARM_TEMPLATE } from "./agent.js";
import { wrennDir } from "./environment.js";
import { bareNamespaceStart } from "./floors.js";
import { envdRun } from "./guest-exec.js";
import { MANAGER_CREATE_STEPS, RUNTIME_CREATE_STEPS, type StepLog } from "./lifecycle-steps.js";
import type { BenchPlan } from "./options.js";

/** Template id of the benchmark's capsules (also names the QEMU template snapshot). */
export const BENCH_TEMPLATE = "minimal";
/** Capsule shape: the agent's defaults, and the shape the QEMU template snapshot was made for. */
export const CAPSULE_SHAPE = { vcpus: 1, memoryMb: 512 } as const;
const CONCURRENT = 10;
const EXEC_TIMEOUT_SEC = 120;

/** The message of `err` prefixed with what was being done, e.g. `con-0-3 Exec after 31200 ms: …`. */
function explain(what: string, t0: number, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`${what} after ${(performance.now() - t0).toFixed(0)} ms: ${msg}`, { cause: err });
}

/**
 * Creates a capsule through hostagent.v1 and runs `/bin/true` in it; resolves with the ms it
 * took. `steps` (when on) gets the two RPCs' shares as `create/rpc CreateSandbox` and
 * `create/rpc Exec`.
 */
export async function createAndRunTrue(
  agent: BenchAgent,
  id: string,
  signal: AbortSignal,
  steps?: StepLog,
  templateId = BENCH_TEMPLATE,
): Promise<number> {
  const t0 = performance.now();
  await agent.client
    .createSandbox({ sandboxId: id, templateId, ...CAPSULE_SHAPE }, { signal })
    .catch((err: unknown) => {
      throw explain(`${id} CreateSandbox`, t0, err);
    });
  const t1 = performance.now();
  steps?.record("create", "rpc CreateSandbox", t1 - t0);
  // 120 s instead of Exec's 30 s default: 10 TCG guests restoring at once on a busy 2-vCPU
  // host took longer than 30 s for their first command, and the table should show how long.
  const r = await agent.client
    .exec({ sandboxId: id, cmd: "/bin/true", timeoutSec: EXEC_TIMEOUT_SEC }, { signal })
    .catch((err: unknown) => {
      throw explain(`${id} Exec true`, t0, err);
    });
  const ms = performance.now() - t0;
  steps?.record("create", "rpc Exec", ms - (t1 - t0));
  if (r.exitCode !== 0) throw new Error(`true exited with ${r.exitCode} in ${id}`);
  return ms;
}

/** Destroys through hostagent.v1; resolves with the ms it took. */
export async function destroyTimed(agent: BenchAgent, id: string): Promise<number> {
  const t0 = performance.now();
  await agent.client.destroySandbox({ sandboxId: id });
  return performance.now() - t0;
}

/** Cold boot of the same image (no template snapshot) → `true` done, straight through the runtime. */
async function qemuColdBoot(agent: BenchAgent, run: number, signal: AbortSignal): Promise<number> {
  const runtime = new QemuRuntime({ wrennDir: wrennDir(), runner: new ExecFileRunner(), templateSnapshots: false });
  const id = `cold-${run}`;
  const stateDir = join(agent.stateRoot, id);
  await using slot = await agent.network.acquire(id, { allowEgress: false }, signal);
  const t0 = performance.now();
  const image = { rootfsDir: agent.image.rootfs, ...(agent.image.ext4 ? { ext4Path: agent.image.ext4 } : {}) };
  const h = await runtime.create(
    {
      sandboxId: id,
      templateId: BENCH_TEMPLATE,
      image,
      ...CAPSULE_SHAPE,
      diskMb: 2048,
      network: slot,
      stateDir,
    },
    signal,
  );
  try {
    const code = await envdRun(h.envdUrl, "/bin/true", [], signal);
    if (code !== 0) throw new Error(`true exited with ${code} after a cold boot`);
    return performance.now() - t0;
  } finally {
    await h[Symbol.asyncDispose]();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** The create table rows of one runtime. */
export async function benchCreate(
  agent: BenchAgent,
  plan: BenchPlan,
  steps: StepLog,
  signal: AbortSignal,
): Promise<Row[]> {
  // The warm pool runs for this section only (namespace; see BenchAgent.startWarmPool).
  agent.startWarmPool();
  try {
    return await measureCreates(agent, plan, steps, signal);
  } finally {
    await agent.manager.stopWarmPool();
  }
}

/** The sequential (warm and cold, interleaved) and concurrent create measurements. */
async function measureCreates(agent: BenchAgent, plan: BenchPlan, steps: StepLog, signal: AbortSignal): Promise<Row[]> {
  const ns = agent.kind === "namespace";
  // Warm-up, untimed: page cache for the image and, for qemu, the template snapshot
  // (cold-booted once per image and VM shape when missing).
  await createAndRunTrue(agent, "warmup", signal);
  await destroyTimed(agent, "warmup");
  if (agent.warmPool > 0) {
    await agent.manager.warmPool?.settled();
    await createAndRunTrue(agent, "warmup-pool", signal, undefined, WARM_TEMPLATE);
    await destroyTimed(agent, "warmup-pool");
  }

  const runs = ns ? plan.createRuns.namespace : plan.createRuns.qemu;
  const warm = agent.warmPool > 0;
  const values: number[] = [];
  const warmValues: number[] = [];
  const destroys: number[] = [];
  const floors: number[] = [];
  const warmExecs: number[] = [];
  const pings: number[] = [];
  for (let i = 0; i < runs; i++) {
    signal.throwIfAborted();
    // Interleaved with the floor, so both see the same machine load.
    if (ns) floors.push(await bareNamespaceStart(agent, i, signal));
    else if (i < plan.qemuColdBoots) floors.push(await qemuColdBoot(agent, i, signal));
    // Warm and cold alternate which goes first, so neither always follows the floor.
    const order = !warm ? ["cold"] : i % 2 === 0 ? ["warm", "cold"] : ["cold", "warm"];
    for (const variant of order) {
      const id = `${variant === "warm" ? "warm" : "seq"}-${i}`;
      await agent.poolReady(1, signal);
      // A full, idle pool: no refill launch from the previous create runs beside this one.
      await agent.manager.warmPool?.settled();
      steps.variant = variant;
      steps.on = true;
      try {
        const ms = await createAndRunTrue(
          agent,
          id,
          signal,
          steps,
          variant === "warm" ? WARM_TEMPLATE : BENCH_TEMPLATE,
        );
        (variant === "warm" ? warmValues : values).push(ms);
      } finally {
        steps.on = false;
      }
      if (variant === "cold") {
        // Same-run references for the first command: the same Exec once envd has loaded its
        // process code, and the cheapest RPC (the RPC path alone).
        let t = performance.now();
        await agent.client.exec({ sandboxId: id, cmd: "/bin/true" }, { signal });
        warmExecs.push(performance.now() - t);
        t = performance.now();
        await agent.client.pingSandbox({ sandboxId: id }, { signal });
        pings.push(performance.now() - t);
      }
      destroys.push(await destroyTimed(agent, id));
    }
  }

  steps.variant = "warm";
  const warmSteps = createStepRows(steps, ns);
  steps.variant = "cold";
  const sequentialSteps = createStepRows(steps, ns);
  steps.clear();
  steps.variant = "";
  const rounds = ns ? plan.concurrentRounds.namespace : plan.concurrentRounds.qemu;
  const each: number[] = [];
  const walls: number[] = [];
  const failed: string[] = [];
  for (let r = 0; r < rounds; r++) {
    signal.throwIfAborted();
    await agent.poolReady(CONCURRENT, signal);
    const ids = Array.from({ length: CONCURRENT }, (_, i) => `con-${r}-${i}`);
    const t0 = performance.now();
    steps.on = true;
    const settled = await Promise.allSettled(ids.map((id) => createAndRunTrue(agent, id, signal, steps)));
    steps.on = false;
    walls.push(performance.now() - t0);
    await Promise.allSettled(ids.map((id) => agent.client.destroySandbox({ sandboxId: id })));
    signal.throwIfAborted();
    // A failed capsule is reported in the table (with why) instead of discarding the section.
    for (const s of settled) {
      if (s.status === "fulfilled") each.push(s.value);
      else failed.push(s.reason instanceof Error ? s.reason.message : String(s.reason));
    }
  }

  const v = summarize(values);
  const f = summarize(floors);
  const floorLabel = `${ns ? "unshare+overlay+node" : "TCG cold boot"}: ${fmtSummary(f, "ms", 0)}`;
  const rows: Row[] = [];
  if (warm) {
    const wv = summarize(warmValues);
    rows.push(
      {
        metric: `create → first command, from the warm pool (${agent.warmPool} ready), sequential`,
        value: fmtSummary(wv, "ms", 0),
        floor: floorLabel,
        ratio: fmtRatio(wv.median, f.median),
        target: "< 80 ms",
        verdict: below(wv.median, 80),
      },
      ...warmSteps,
    );
  }
  rows.push(
    {
      metric: `create → first command, ${warm ? "cold (launched for the request)" : "sequential"}`,
      value: fmtSummary(v, "ms", 0),
      floor: floorLabel,
      ratio: fmtRatio(v.median, f.median),
      ...(ns
        ? { target: "< 80 ms", verdict: below(v.median, 80) }
        : { target: "≤ 0.15x cold", verdict: v.median <= 0.15 * f.median ? "ok" : "MISS" }),
    },
    ...sequentialSteps,
    { metric: "  reference: Exec `true` again (envd warm)", value: fmtSummary(summarize(warmExecs), "ms", 2) },
    { metric: "  reference: PingSandbox RPC (the RPC path alone)", value: fmtSummary(summarize(pings), "ms", 2) },
  );
  const e = summarize(each);
  const w = summarize(walls);
  rows.push(
    {
      metric: `${CONCURRENT} concurrent creates (cold), each`,
      value:
        failed.length === 0
          ? fmtSummary(e, "ms", 0)
          : `${fmtSummary(e, "ms", 0)}; ${failed.length} of ${rounds * CONCURRENT} FAILED, first: ${failed[0]}`,
      floor: `sequential cold: ${fmtSummary(v, "ms", 0)}`,
      ratio: fmtRatio(e.median, v.median),
    },
    ...createStepRows(steps, ns),
    {
      metric: `${CONCURRENT} concurrent creates, wall`,
      value: fmtSummary(w, "ms", 0),
      floor: `${CONCURRENT} × sequential median: ${(CONCURRENT * v.median).toFixed(0)} ms`,
      ratio: fmtRatio(w.median, CONCURRENT * v.median),
    },
    { metric: "destroy", value: fmtSummary(summarize(destroys), "ms", 0) },
  );
  return rows;
}

/**
 * Where create → first command went: the CreateSandbox RPC (the manager's steps inside it,
 * the namespace runtime's inside `runtime create`) and the first Exec.
 */
function createStepRows(steps: StepLog, ns: boolean): Row[] {
  const runtimeRows = ns ? steps.rows("runtime", RUNTIME_CREATE_STEPS, "        ") : [];
  const manager = steps.rows("create", MANAGER_CREATE_STEPS, "      ");
  const at = manager.findIndex((r) => r.metric.trim() === "runtime create");
  if (at >= 0) manager.splice(at + 1, 0, ...runtimeRows);
  return [
    ...steps.rows("create", [["rpc CreateSandbox", "CreateSandbox RPC"]], "  of which "),
    ...manager,
    ...steps.rows("create", [["rpc Exec", "Exec `true` RPC (first command)"]], "  of which "),
  ];
}
