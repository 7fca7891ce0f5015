/** Memory (and idle CPU) per idle capsule, and how many idle capsules fit on this machine. */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { atLeast, fmtBytes, fmtRatio, fmtSummary } from "../lib/format.js";
import { mapLimit } from "../lib/map-limit.js";
import { memAvailable, type ProcMemory, sumMemory, unitsThatFit } from "../lib/memory.js";
import { summarize } from "../lib/stats.js";
import type { Row } from "../lib/table.js";
import type { BenchAgent } from "./agent.js";
import { capsuleCgroup, capsulePids, memcgUsage } from "./capsule-cgroup.js";
import { BENCH_TEMPLATE, CAPSULE_SHAPE } from "./create.js";
import { processesWith } from "./environment.js";
import { startBareNamespace } from "./floors.js";

/** CPU time of this process and of its reaped children (the agent starts none while idle), in µs. */
async function agentCpuMicros(): Promise<number> {
  const own = process.cpuUsage();
  const stat = await readFile("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // cutime and cstime (fields 16 and 17) are in USER_HZ ticks of 10 ms.
  const childTicks = Number(f[13] ?? 0) + Number(f[14] ?? 0);
  return own.user + own.system + childTicks * 10_000;
}

const mib = (b: number) => fmtBytes(b);
const MiB = 1048576;
/** Summary of byte readings, in MiB. */
const inMiB = (bytes: readonly number[]) => summarize(bytes.map((b) => b / MiB));
const pct = (v: number) => `${v.toFixed(2)} % of a core`;

/** How many idle units the machine's CPUs carry at `pctEach` (% of a core, the unit's and the agent's). */
function cpuFitRow(unit: string, pctEach: number, target: number): Row {
  const cores = availableParallelism();
  const fit = unitsThatFit(cores * 100, pctEach);
  return {
    metric: `${unit}s whose idle CPU (own + agent) fits ${cores} CPUs`,
    value: Number.isNaN(fit) ? "n/a (no idle CPU measured)" : String(fit),
    target: `≥ ${target}`,
    verdict: Number.isNaN(fit) ? "" : atLeast(fit, target),
  };
}

/** The MemAvailable-based rows; a drop ≤ 0 means other work freed memory meanwhile. */
function dropRows(unit: string, available: number, drop: number, target: number): Row[] {
  if (!(drop > 0)) {
    return [
      { metric: `MemAvailable drop per ${unit} (shared machine)`, value: `${mib(drop)}: other work freed memory` },
      { metric: `${unit}s that fit: MemAvailable / drop per ${unit}`, value: "n/a (drop lost in noise)" },
    ];
  }
  const fit = unitsThatFit(available, drop);
  return [
    { metric: `MemAvailable drop per ${unit} (shared machine)`, value: mib(drop) },
    {
      metric: `${unit}s that fit: MemAvailable / drop per ${unit}`,
      value: String(fit),
      target: `≥ ${target}`,
      verdict: atLeast(fit, target),
    },
  ];
}

/** What one idle capsule costs: its processes' memory and CPU, read from outside. */
interface IdleReading {
  readonly memory: ProcMemory & { readonly processes: number };
  readonly memcg: number;
  readonly cpuPct: number;
}

/**
 * Starts `count` idle capsules (4 creates at a time, VMs 2), lets them settle for
 * `idleSeconds`, measures CPU over the next `idleSeconds`, reads each one's memory, and
 * destroys them. `read` turns a capsule id into its processes.
 */
async function idleFleet(
  agent: BenchAgent,
  count: number,
  idleSeconds: number,
  read: (id: string) => Promise<{ memory: ProcMemory & { processes: number }; memcg: number }>,
  signal: AbortSignal,
) {
  const ids = Array.from({ length: count }, (_, i) => `idle-${i}`);
  const availableBefore = await memAvailable();
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  try {
    await mapLimit(ids, agent.kind === "namespace" ? 4 : 2, (id) =>
      agent.client.createSandbox({ sandboxId: id, templateId: BENCH_TEMPLATE, ...CAPSULE_SHAPE }, { signal }),
    );
    const startMs = performance.now() - t0;
    // Restored VMs and fresh envds do start-up work for a while: let it pass before the window.
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    signal.throwIfAborted();
    const cpuNow = () => mapLimit(ids, 8, async (id) => (await agent.runtime.handle(id).usage()).cpuUsageMicros);
    const cpu0 = await cpuNow();
    const agent0 = await agentCpuMicros();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    signal.throwIfAborted();
    const windowMicros = (performance.now() - w0) * 1000;
    const cpu1 = await cpuNow();
    const agentPct = ((await agentCpuMicros()) - agent0) / windowMicros / count;
    const readings: IdleReading[] = [];
    for (const [i, id] of ids.entries()) {
      signal.throwIfAborted();
      const used = (cpu1[i] ?? 0) - (cpu0[i] ?? 0);
      readings.push({ ...(await read(id)), cpuPct: (used / windowMicros) * 100 });
    }
    const availableAfter = await memAvailable();
    return {
      readings,
      startMs,
      availableBefore,
      dropPerUnit: (availableBefore - availableAfter) / count,
      agentRssPerUnit: (process.memoryUsage().rss - rssBefore) / count,
      agentCpuPct: agentPct * 100,
    };
  } finally {
    await mapLimit(ids, 4, (id) => agent.client.destroySandbox({ sandboxId: id }));
  }
}

/** Rows for `count` idle namespace capsules, with a bare `unshare` Node server as the floor. */
export async function benchNamespaceDensity(
  agent: BenchAgent,
  count: number,
  idleSeconds: number,
  signal: AbortSignal,
): Promise<Row[]> {
  let floor: ProcMemory | undefined;
  const fleet = await idleFleet(
    agent,
    count,
    idleSeconds,
    async (id) => {
      const cg = await capsuleCgroup(id);
      const memory = await sumMemory(await capsulePids(cg));
      if (!floor) {
        // Read while the fleet runs, so shared pages are split the same way.
        await using bare = await startBareNamespace(agent, 9999, signal);
        await new Promise((r) => setTimeout(r, 1000));
        floor = await sumMemory(bare.pids);
      }
      return { memory, memcg: await memcgUsage(cg) };
    },
    signal,
  );
  const pss = inMiB(fleet.readings.map((r) => r.memory.pss));
  const rss = inMiB(fleet.readings.map((r) => r.memory.rss));
  const fit = unitsThatFit(fleet.availableBefore, pss.median * MiB);
  const f = floor ?? { pss: Number.NaN, rss: Number.NaN, pssAnon: Number.NaN, pssFile: Number.NaN };
  return [
    {
      metric: `idle capsules started (${count}, 4 at a time)`,
      value: `${(fleet.startMs / 1000).toFixed(1)} s (${((count * 1000) / fleet.startMs).toFixed(1)}/s)`,
    },
    {
      metric: "PSS per idle capsule (sum over its processes)",
      value: fmtSummary(pss, "MiB", 2),
      floor: `bare unshare+node server: ${mib(f.pss)}`,
      ratio: fmtRatio(pss.median * MiB, f.pss),
      target: "≈ 8 MiB (by hand)",
    },
    {
      metric: "RSS per idle capsule",
      value: fmtSummary(rss, "MiB", 1),
      floor: `bare: ${mib(f.rss)}`,
      ratio: fmtRatio(rss.median * MiB, f.rss),
    },
    {
      metric: "  of which PSS anonymous",
      value: mib(summarize(fleet.readings.map((r) => r.memory.pssAnon)).median),
      floor: `bare: ${mib(f.pssAnon)}`,
    },
    { metric: "memcg usage per capsule", value: mib(summarize(fleet.readings.map((r) => r.memcg)).median) },
    { metric: "processes per capsule", value: String(summarize(fleet.readings.map((r) => r.memory.processes)).median) },
    { metric: "agent RSS growth per capsule (GC-dependent)", value: mib(fleet.agentRssPerUnit) },
    { metric: "idle CPU per capsule (its cgroup)", value: pct(summarize(fleet.readings.map((r) => r.cpuPct)).median) },
    { metric: `agent CPU per idle capsule (whole agent / ${count})`, value: pct(fleet.agentCpuPct) },
    { metric: `agent CPU with ${count} idle capsules`, value: pct(fleet.agentCpuPct * count) },
    {
      metric: `capsules that fit: MemAvailable ${mib(fleet.availableBefore)} / PSS`,
      value: String(fit),
      target: "≥ 500",
      verdict: atLeast(fit, 500),
    },
    ...dropRows("capsule", fleet.availableBefore, fleet.dropPerUnit, 500),
    cpuFitRow("capsule", summarize(fleet.readings.map((r) => r.cpuPct)).median + fleet.agentCpuPct, 500),
  ];
}

/** Rows for `count` idle QEMU VMs (memory of each QEMU process), extrapolated to the machine. */
export async function benchQemuDensity(
  agent: BenchAgent,
  count: number,
  idleSeconds: number,
  signal: AbortSignal,
): Promise<Row[]> {
  const fleet = await idleFleet(
    agent,
    count,
    idleSeconds,
    async (id) => {
      const pids = await processesWith("qemu-system", `${join(agent.stateRoot, id)}/`);
      return { memory: await sumMemory(pids), memcg: Number.NaN };
    },
    signal,
  );
  const pss = inMiB(fleet.readings.map((r) => r.memory.pss));
  const rss = inMiB(fleet.readings.map((r) => r.memory.rss));
  const fit = unitsThatFit(fleet.availableBefore, pss.median * MiB);
  const guest = CAPSULE_SHAPE.memoryMb * MiB;
  return [
    {
      metric: `idle VMs started (${count}, 2 at a time, template restore)`,
      value: `${(fleet.startMs / 1000).toFixed(1)} s`,
    },
    {
      metric: "PSS per idle VM (QEMU process)",
      value: fmtSummary(pss, "MiB", 0),
      floor: `guest RAM (-m): ${mib(guest)}`,
      ratio: fmtRatio(pss.median * MiB, guest),
    },
    { metric: "RSS per idle VM", value: fmtSummary(rss, "MiB", 0) },
    { metric: "idle CPU per VM (QEMU process)", value: pct(summarize(fleet.readings.map((r) => r.cpuPct)).median) },
    { metric: "agent CPU per idle VM (incl. sampler)", value: pct(fleet.agentCpuPct) },
    {
      metric: `VMs that fit: MemAvailable ${mib(fleet.availableBefore)} / PSS`,
      value: String(fit),
      target: "≥ 40",
      verdict: atLeast(fit, 40),
    },
    ...dropRows("VM", fleet.availableBefore, fleet.dropPerUnit, 40),
    cpuFitRow("VM", summarize(fleet.readings.map((r) => r.cpuPct)).median + fleet.agentCpuPct, 40),
  ];
}
