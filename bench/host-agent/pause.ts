/**
 * Pause and resume per runtime: through the agent (envd steps included) and the runtime alone,
 * next to floors; for the namespace runtime also the RPC path every agent call pays.
 */
import { open, readFile, rm, stat } from "node:fs/promises";
import { Agent as HttpAgent } from "node:http";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { HostAgentService, PingSandboxRequestSchema } from "@wrenn/protocol/hostagent/v1";
import { below, fmtBytes, fmtRatio, fmtSummary } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import type { Row } from "../lib/table.js";
import type { BenchAgent } from "./agent.js";
import { capsuleCgroup, memcgUsage, rawFreezerCycle } from "./capsule-cgroup.js";
import { BENCH_TEMPLATE, CAPSULE_SHAPE } from "./create.js";
import { postOnce, startBareEcho } from "./floors.js";
import { PAUSE_STEPS, RESUME_STEPS, type StepLog } from "./lifecycle-steps.js";
import type { BenchPlan } from "./options.js";

const ID = "pause-0";
const settle = () => new Promise((r) => setTimeout(r, 20));

/** Lets the capsule go idle first (a resume's /init work, a sampler read), then times `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  await settle();
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Pause/resume rows of one runtime. */
export async function benchPause(
  agent: BenchAgent,
  plan: BenchPlan,
  steps: StepLog,
  signal: AbortSignal,
): Promise<Row[]> {
  const c = agent.client;
  await c.createSandbox({ sandboxId: ID, templateId: BENCH_TEMPLATE, ...CAPSULE_SHAPE }, { signal });
  steps.clear();
  try {
    return agent.kind === "namespace"
      ? await namespaceCycles(agent, plan.pauseCycles.namespace, steps, signal)
      : await qemuCycles(agent, plan.pauseCycles.qemu, steps, signal);
  } finally {
    steps.on = false;
    steps.clear();
    await c.destroySandbox({ sandboxId: ID });
  }
}

/**
 * Agent-level cycle: PauseSandbox then ResumeSandbox; `whilePaused` runs in between, untimed.
 * `steps`, when given, records the manager's steps of both.
 */
async function agentCycle(agent: BenchAgent, signal: AbortSignal, whilePaused?: () => Promise<void>, steps?: StepLog) {
  const rpc = async (fn: () => Promise<unknown>) => {
    if (steps) steps.on = true;
    try {
      return await timed(fn);
    } finally {
      if (steps) steps.on = false;
    }
  };
  const pause = await rpc(() => agent.client.pauseSandbox({ sandboxId: ID }, { signal }));
  await whilePaused?.();
  const resume = await rpc(() => agent.client.resumeSandbox({ sandboxId: ID }, { signal }));
  return { pause, resume };
}

/** The step rows of pause or resume, under their agent row. */
function stepRows(steps: StepLog, op: "pause" | "resume"): Row[] {
  return steps.rows(op, op === "pause" ? PAUSE_STEPS : RESUME_STEPS, "  of which ");
}

async function namespaceCycles(agent: BenchAgent, cycles: number, steps: StepLog, signal: AbortSignal): Promise<Row[]> {
  const cg = await capsuleCgroup(ID);
  const handle = agent.runtime.handle(ID);
  for (let i = 0; i < 3; i++) await agentCycle(agent, signal);
  const a = { pause: [] as number[], resume: [] as number[] };
  const r = { pause: [] as number[], resume: [] as number[] };
  const f = { pause: [] as number[], resume: [] as number[] };
  const kept: number[] = [];
  for (let i = 0; i < cycles; i++) {
    signal.throwIfAborted();
    await settle();
    const raw = await rawFreezerCycle(cg);
    f.pause.push(raw.freezeMs);
    f.resume.push(raw.thawMs);
    const x = await agentCycle(
      agent,
      signal,
      async () => {
        kept.push(await memcgUsage(cg));
      },
      steps,
    );
    a.pause.push(x.pause);
    a.resume.push(x.resume);
    r.pause.push(await timed(() => handle.pause(signal)));
    r.resume.push(await timed(() => handle.resume(signal)));
  }
  const code = (await agent.client.exec({ sandboxId: ID, cmd: "/bin/true" }, { signal })).exitCode;
  if (code !== 0) throw new Error("the capsule no longer runs commands after the pause cycles");
  const fp = summarize(f.pause);
  const fr = summarize(f.resume);
  const row = (metric: string, samples: number[], floor: typeof fp, floorName: string): Row => {
    const s = summarize(samples);
    return {
      metric,
      value: fmtSummary(s, "ms", 2),
      floor: `${floorName}: ${fmtSummary(floor, "ms", 2)}`,
      ratio: fmtRatio(s.median, floor.median, 1),
      target: "< 5 ms",
      verdict: below(s.median, 5),
    };
  };
  return [
    ...(await rpcPathRows(agent, cycles * 2, signal)),
    row("pause, agent (freezer; envd untouched: nothing is restored)", a.pause, fp, "raw freezer write + poll"),
    ...stepRows(steps, "pause"),
    row("pause, runtime only (freezer)", r.pause, fp, "raw freezer write + poll"),
    row("resume, agent (thaw; envd kept running: no /init needed)", a.resume, fr, "raw thaw write"),
    ...stepRows(steps, "resume"),
    row("resume, runtime only (thaw)", r.resume, fr, "raw thaw write"),
    {
      metric: "snapshot size",
      value: `0 B on disk; ${fmtBytes(summarize(kept).median)} kept in RAM (memcg)`,
    },
  ];
}

/**
 * What one unary call costs before any capsule work: PingSandbox through a Connect client (as
 * the control plane calls it), the same call as a raw HTTP POST (the agent's server alone), and
 * a bare HTTP/1.1 echo on loopback (the floor). Interleaved, so load hits all three alike, and
 * each after the same 20 ms idle as a timed pause or resume: on this VM a call right after
 * another is about half as slow as one after a pause (the idle vCPU's wake-up and cold caches).
 */
async function rpcPathRows(agent: BenchAgent, samples: number, signal: AbortSignal): Promise<Row[]> {
  await using echo = await startBareEcho();
  const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  try {
    const body = toBinary(PingSandboxRequestSchema, create(PingSandboxRequestSchema, { sandboxId: ID }));
    const rawUrl = `${agent.baseUrl}/${HostAgentService.typeName}/PingSandbox`;
    const headers = { "content-type": "application/proto", "connect-protocol-version": "1" };
    const kinds = {
      connect: () => agent.client.pingSandbox({ sandboxId: ID }, { signal }),
      raw: async () => {
        const status = await postOnce(rawUrl, body, headers, keepAlive);
        if (status !== 200) throw new Error(`PingSandbox as a raw POST answered ${status}`);
      },
      echo: () => postOnce(echo.url, body, headers, keepAlive),
    };
    const out = { connect: [] as number[], raw: [] as number[], echo: [] as number[] };
    for (let i = 0; i < samples + 20; i++) {
      signal.throwIfAborted();
      for (const k of ["connect", "raw", "echo"] as const) {
        const ms = await timed(kinds[k]);
        if (i >= 20) out[k].push(ms); // the first 20 warm up
      }
    }
    const floor = summarize(out.echo);
    const row = (metric: string, samples: number[]): Row => {
      const s = summarize(samples);
      return {
        metric,
        value: fmtSummary(s, "ms", 2),
        floor: `bare HTTP/1.1 echo (kept alive, after 20 ms idle): ${fmtSummary(floor, "ms", 2)}`,
        ratio: fmtRatio(s.median, floor.median, 1),
      };
    };
    return [
      row("RPC path: PingSandbox, Connect client (as the control plane)", out.connect),
      row("  the agent's server alone: the same call as a raw HTTP POST", out.raw),
    ];
  } finally {
    keepAlive.destroy();
  }
}

/** Sequential write and read of `bytes` in `dir`: the data movement a memory snapshot cannot beat. */
async function diskFloor(dir: string, bytes: number): Promise<{ writeMs: number; readMs: number }> {
  const file = join(dir, "floor.bin");
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  try {
    const t0 = performance.now();
    const fh = await open(file, "w");
    try {
      for (let left = bytes; left > 0; left -= chunk.length) {
        await fh.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      }
    } finally {
      await fh.close();
    }
    const t1 = performance.now();
    await readFile(file);
    return { writeMs: t1 - t0, readMs: performance.now() - t1 };
  } finally {
    await rm(file, { force: true });
  }
}

async function qemuCycles(agent: BenchAgent, cycles: number, steps: StepLog, signal: AbortSignal): Promise<Row[]> {
  const dir = join(agent.stateRoot, ID);
  const handle = agent.runtime.handle(ID);
  const a = { pause: [] as number[], resume: [] as number[] };
  const r = { pause: [] as number[], resume: [] as number[] };
  const f = { pause: [] as number[], resume: [] as number[] };
  const sizes: number[] = [];
  for (let i = 0; i < cycles; i++) {
    signal.throwIfAborted();
    const x = await agentCycle(
      agent,
      signal,
      async () => {
        const size = (await stat(join(dir, "vm.state"))).size;
        sizes.push(size);
        const floor = await diskFloor(dir, size);
        f.pause.push(floor.writeMs);
        f.resume.push(floor.readMs);
      },
      steps,
    );
    a.pause.push(x.pause);
    a.resume.push(x.resume);
    r.pause.push(await timed(() => handle.pause(signal)));
    r.resume.push(await timed(() => handle.resume(signal)));
  }
  const code = (await agent.client.exec({ sandboxId: ID, cmd: "/bin/true" }, { signal })).exitCode;
  if (code !== 0) throw new Error("the VM no longer runs commands after the pause cycles");
  const fp = summarize(f.pause);
  const fr = summarize(f.resume);
  const row = (metric: string, samples: number[], floor: typeof fp, floorName: string): Row => {
    const s = summarize(samples);
    return {
      metric,
      value: fmtSummary(s, "ms", 0),
      floor: `${floorName}: ${fmtSummary(floor, "ms", 0)}`,
      ratio: fmtRatio(s.median, floor.median, 1),
    };
  };
  return [
    row("pause, agent (envd prepare + migrate to file + quit)", a.pause, fp, "write same bytes"),
    ...stepRows(steps, "pause"),
    row("pause, runtime only (migrate to file + quit)", r.pause, fp, "write same bytes"),
    row("resume, agent — envd readiness INCLUDED (restore + /health + /init)", a.resume, fr, "read state file"),
    ...stepRows(steps, "resume"),
    row("resume, runtime only — restore + /health (QEMU waits for envd)", r.resume, fr, "read state file"),
    { metric: "snapshot size (memory + device state file)", value: fmtBytes(summarize(sizes).median) },
  ];
}
