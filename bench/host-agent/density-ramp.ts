/**
 * Density by measurement instead of extrapolation: idle namespace capsules are started in
 * steps until what they and the agent use reaches the host's CPU budget or memory budget
 * (or the requested maximum). After each step the fleet settles, then one window measures
 * the CPU charged to all capsule cgroups together (their common parent cgroup), the agent's
 * own CPU (this process: the agent runs in it), MemAvailable and the load. One row per step.
 */
import { readFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { planCgroup } from "../../apps/host-agent/src/runtime/namespace/cgroup-plan.js";
import { detectCgroups } from "../../apps/host-agent/src/runtime/namespace/cgroups.js";
import { fmtBytes } from "../lib/format.js";
import { mapLimit } from "../lib/map-limit.js";
import { memAvailable, parseMeminfo } from "../lib/memory.js";
import type { Row } from "../lib/table.js";
import type { BenchAgent } from "./agent.js";
import { BENCH_TEMPLATE, CAPSULE_SHAPE } from "./create.js";
import { BENCH_CGROUP_PARENT } from "./environment.js";

/** How the ramp runs. */
export interface RampPlan {
  /** Stop after this many capsules even if both budgets still hold. */
  readonly max: number;
  /** Capsules added per step. */
  readonly step: number;
  /** Seconds a step's new capsules settle (envd start-up work) before the window. */
  readonly settleSeconds: number;
  /** Seconds of the measurement window. */
  readonly windowSeconds: number;
  /** CPU budget as a share of all cores (capsules + agent), e.g. 0.8. */
  readonly cpuShare: number;
  /** Memory budget: stop when MemAvailable falls below this share of MemTotal, e.g. 0.1. */
  readonly memFloorShare: number;
}

/** CPU time (µs) charged to every bench capsule together: the parent cgroup's counter. */
async function fleetCpuReader(): Promise<() => Promise<number>> {
  const host = await detectCgroups();
  if ("missing" in host) throw new Error(`no usable cgroups: missing ${host.missing}`);
  const limits = { memoryBytes: 1, cpus: 1, pidsMax: 1 };
  const plan = planCgroup(host.version, host.root, BENCH_CGROUP_PARENT, "x", limits, host.v1Mounts);
  const parent = dirname(plan.cpuDir);
  if (plan.version === 2) {
    return async () => Number(/usage_usec (\d+)/.exec(await readFile(join(parent, "cpu.stat"), "utf8"))?.[1] ?? 0);
  }
  return async () => Math.round(Number((await readFile(join(parent, "cpuacct.usage"), "utf8")).trim()) / 1000);
}

/** This process's CPU time (µs): the agent and the bench driver, which idles during the window. */
function agentCpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const pct = (v: number) => `${v.toFixed(1)} %`;

/** Runs the ramp; the capsules are destroyed at the end (also on failure or abort). */
export async function benchDensityRamp(agent: BenchAgent, plan: RampPlan, signal: AbortSignal): Promise<Row[]> {
  const cores = availableParallelism();
  const cpuBudget = cores * 100 * plan.cpuShare;
  const memTotal = parseMeminfo(await readFile("/proc/meminfo", "utf8"))["MemTotal"] ?? 0;
  const memFloor = memTotal * plan.memFloorShare;
  const fleetCpu = await fleetCpuReader();
  const ids: string[] = [];
  const rows: Row[] = [
    {
      metric: "budgets (CPU in % of one core)",
      value: `CPU ${pct(cpuBudget)} (${Math.round(plan.cpuShare * 100)} % of ${cores} cores); MemAvailable ≥ ${fmtBytes(memFloor)}`,
    },
  ];
  let stop = `reached --ramp ${plan.max}`;
  try {
    while (ids.length < plan.max) {
      const first = ids.length;
      const batch = Array.from({ length: Math.min(plan.step, plan.max - first) }, (_, i) => `ramp-${first + i}`);
      const t0 = performance.now();
      try {
        await mapLimit(batch, 4, async (id) => {
          await agent.client.createSandbox({ sandboxId: id, templateId: BENCH_TEMPLATE, ...CAPSULE_SHAPE }, { signal });
          ids.push(id);
        });
      } catch (err) {
        if (signal.aborted) throw err;
        stop = `a create failed at ${ids.length} capsules: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
      const createS = (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, plan.settleSeconds * 1000));
      signal.throwIfAborted();
      const c0 = await fleetCpu();
      const a0 = agentCpu();
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, plan.windowSeconds * 1000));
      signal.throwIfAborted();
      const wallMicros = (performance.now() - w0) * 1000;
      const capsPct = (((await fleetCpu()) - c0) / wallMicros) * 100;
      const agentPct = ((agentCpu() - a0) / wallMicros) * 100;
      const avail = await memAvailable();
      const n = ids.length;
      rows.push({
        metric: `${n} idle capsules`,
        value:
          `capsules ${pct(capsPct)} (${(capsPct / n).toFixed(2)} each), agent ${pct(agentPct)} ` +
          `(${(agentPct / n).toFixed(3)} each); MemAvailable ${fmtBytes(avail)}; load ${loadavg()[0]?.toFixed(1)}; ` +
          `step created in ${createS.toFixed(0)} s`,
      });
      if (capsPct + agentPct >= cpuBudget) {
        stop = `CPU budget reached at ${n} capsules (${pct(capsPct + agentPct)})`;
        break;
      }
      if (avail < memFloor) {
        stop = `memory budget reached at ${n} capsules (MemAvailable ${fmtBytes(avail)})`;
        break;
      }
    }
  } finally {
    await mapLimit(ids, 4, (id) => agent.client.destroySandbox({ sandboxId: id }));
  }
  rows.push({ metric: "stopped because", value: stop });
  return rows;
}
