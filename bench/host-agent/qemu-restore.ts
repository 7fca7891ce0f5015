/**
 * QEMU create from the template snapshot next to a cold boot of the same image, step by step
 * (`QemuRuntimeOptions.onPhase`), straight through the runtime (no agent RPC in between), plus
 * what the template snapshot is made of: its state file, its RAM image and how much of that is
 * in the host page cache, the guest's own memory, and the RSS/PSS of a restored VM.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { EnvdClient } from "../../apps/host-agent/src/envd-client/envd-client.js";
import { ExecFileRunner } from "../../apps/host-agent/src/exec/command-runner.js";
import type { QemuPhase } from "../../apps/host-agent/src/runtime/qemu/qemu-phases.js";
import { QemuRuntime } from "../../apps/host-agent/src/runtime/qemu/qemu-runtime.js";
import type { SandboxHandle } from "../../apps/host-agent/src/runtime/runtime.js";
import { fmtBytes, fmtRatio, fmtSummary } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import type { Row } from "../lib/table.js";
import type { BenchAgent } from "./agent.js";
import { BENCH_TEMPLATE, CAPSULE_SHAPE } from "./create.js";
import { processesWith, wrennDir } from "./environment.js";
import { envdRun } from "./guest-exec.js";

/** Restores and cold boots measured. */
export interface QemuRestorePlan {
  readonly restores: number;
  readonly coldBoots: number;
}

/** Steps in the order a create goes through them; a step a run did not take has no row. */
const RESTORE_STEPS: readonly QemuPhase[] = [
  "kernel",
  "template snapshot",
  "overlay",
  "qemu start",
  "incoming load",
  "cont",
  "/init",
  "guest → /health",
];
const COLD_STEPS: readonly QemuPhase[] = ["kernel", "overlay", "qemu start", "guest → /health", "/init"];

/** Durations of one run: each phase, the first and a second command, create → first command. */
type RunTimes = Map<string, number>;

class PhaseRecorder {
  current: RunTimes | undefined;
  readonly listener = (phase: QemuPhase, ms: number): void => {
    this.current?.set(phase, (this.current.get(phase) ?? 0) + ms);
  };
}

/** One create → `true` → `true` run through `runtime`; `inspect` sees the live capsule before dispose. */
async function oneRun(
  agent: BenchAgent,
  runtime: QemuRuntime,
  rec: PhaseRecorder,
  id: string,
  signal: AbortSignal,
  inspect?: (h: SandboxHandle, stateDir: string) => Promise<void>,
): Promise<RunTimes> {
  const stateDir = join(agent.stateRoot, id);
  await using slot = await agent.network.acquire(id, { allowEgress: false }, signal);
  const times: RunTimes = new Map();
  rec.current = times;
  const t0 = performance.now();
  const image = { rootfsDir: agent.image.rootfs, ...(agent.image.ext4 ? { ext4Path: agent.image.ext4 } : {}) };
  const h = await runtime.create(
    { sandboxId: id, templateId: BENCH_TEMPLATE, image, ...CAPSULE_SHAPE, diskMb: 2048, network: slot, stateDir },
    signal,
  );
  rec.current = undefined;
  try {
    const t1 = performance.now();
    if ((await envdRun(h.envdUrl, "/bin/true", [], signal)) !== 0) throw new Error(`true failed in ${id}`);
    const t2 = performance.now();
    await envdRun(h.envdUrl, "/bin/true", [], signal);
    times.set("create", t1 - t0);
    times.set("first command", t2 - t1);
    times.set("second command", performance.now() - t2);
    times.set("total", t2 - t0);
    await inspect?.(h, stateDir);
    return times;
  } finally {
    await h[Symbol.asyncDispose]();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Runs `cmd` in the capsule straight through envd; resolves with its stdout. */
async function envdOutput(envdUrl: string, cmd: string, args: string[], signal: AbortSignal): Promise<string> {
  const envd = new EnvdClient({ baseUrl: envdUrl });
  const dec = new TextDecoder();
  let out = "";
  try {
    for await (const r of envd.process.start({ process: { cmd, args }, stdin: false }, { signal })) {
      const ev = r.event?.event;
      if (ev?.case === "data" && ev.value.output.case === "stdout") out += dec.decode(ev.value.output.value);
    }
    return out;
  } finally {
    envd.close();
  }
}

/** What the inspected restored capsule showed. */
interface Inspection {
  readonly ramFile?: string;
  readonly rssKb: number;
  readonly pssKb: number;
  readonly guest: Record<string, number>;
}

async function inspectRestored(h: SandboxHandle, stateDir: string, signal: AbortSignal): Promise<Inspection> {
  const [pid] = await processesWith("qemu-system", stateDir);
  const cmdline = pid === undefined ? "" : await readFile(`/proc/${pid}/cmdline`, "utf8");
  const ramFile = /mem-path=([^,\0]+)/.exec(cmdline)?.[1];
  const rollup = pid === undefined ? "" : await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
  const kb = (key: string, text: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
  const meminfo = await envdOutput(h.envdUrl, "/bin/cat", ["/proc/meminfo"], signal);
  const guest: Record<string, number> = {};
  for (const k of ["MemTotal", "MemFree", "Cached", "AnonPages", "Slab"]) guest[k] = kb(k, meminfo);
  return { ...(ramFile ? { ramFile } : {}), rssKb: kb("Rss", rollup), pssKb: kb("Pss", rollup), guest };
}

function stepRows(runs: readonly RunTimes[], steps: readonly string[], indent: string): Row[] {
  const rows: Row[] = [];
  for (const step of steps) {
    const values = runs.flatMap((r) => (r.has(step) ? [r.get(step) ?? 0] : []));
    if (values.length > 0) rows.push({ metric: `${indent}${step}`, value: fmtSummary(summarize(values), "ms", 0) });
  }
  return rows;
}

/** Template snapshot files: sizes and host page-cache residency (`fincore`). */
async function snapshotRows(ramFile: string | undefined): Promise<Row[]> {
  if (ramFile === undefined) return [{ metric: "template snapshot files", value: "RAM not file-backed (old recipe?)" }];
  const runner = new ExecFileRunner();
  const state = join(dirname(ramFile), "vm.state");
  const rows: Row[] = [];
  for (const [label, file] of [
    ["state file (device state)", state],
    ["RAM image", ramFile],
  ] as const) {
    const s = await stat(file);
    const fin = await runner.run(["fincore", "--bytes", "--noheadings", "--raw", "-o", "RES", file]);
    const resident = Number(fin.stdout.trim());
    rows.push({
      metric: `template ${label}`,
      value: `${fmtBytes(s.size)} long, ${fmtBytes(s.blocks * 512)} on disk, ${fmtBytes(resident)} in page cache`,
    });
  }
  return rows;
}

/** The benchmark's rows; `plan.restores` restores, the first `plan.coldBoots` of them interleaved with a cold boot. */
export async function benchQemuRestore(agent: BenchAgent, plan: QemuRestorePlan, signal: AbortSignal): Promise<Row[]> {
  const rec = new PhaseRecorder();
  const runner = new ExecFileRunner();
  const restoring = new QemuRuntime({ wrennDir: wrennDir(), runner, onPhase: rec.listener });
  const cold = new QemuRuntime({ wrennDir: wrennDir(), runner, templateSnapshots: false, onPhase: rec.listener });
  // Untimed: makes the template snapshot if missing and warms the page cache.
  let inspection: Inspection | undefined;
  await oneRun(agent, restoring, rec, "qr-warm", signal, async (h, dir) => {
    inspection = await inspectRestored(h, dir, signal);
  });
  const restores: RunTimes[] = [];
  const colds: RunTimes[] = [];
  for (let i = 0; i < plan.restores; i++) {
    signal.throwIfAborted();
    // Interleaved, so both see the same machine load.
    if (i < plan.coldBoots) colds.push(await oneRun(agent, cold, rec, `qc-${i}`, signal));
    restores.push(await oneRun(agent, restoring, rec, `qr-${i}`, signal));
  }
  const total = (runs: RunTimes[]) => summarize(runs.map((r) => r.get("total") ?? Number.NaN));
  const r = total(restores);
  const c = total(colds);
  const g = inspection?.guest ?? {};
  const used = (g["MemTotal"] ?? Number.NaN) - (g["MemFree"] ?? Number.NaN);
  return [
    {
      metric: "create from the template snapshot → first command",
      value: fmtSummary(r, "ms", 0),
      floor: `TCG cold boot → first command: ${fmtSummary(c, "ms", 0)}`,
      ratio: fmtRatio(r.median, c.median),
      target: "≤ 0.15x cold",
      verdict: r.median <= 0.15 * c.median ? "ok" : "MISS",
    },
    ...stepRows(restores, RESTORE_STEPS, "  restore: "),
    ...stepRows(restores, ["first command", "second command"], "  restore: "),
    ...stepRows(colds, COLD_STEPS, "  cold boot: "),
    ...stepRows(colds, ["first command", "second command"], "  cold boot: "),
    ...(await snapshotRows(inspection?.ramFile)),
    {
      metric: "guest memory after restore (/proc/meminfo)",
      value:
        `${fmtBytes(used * 1024)} in use of ${fmtBytes((g["MemTotal"] ?? 0) * 1024)}: page cache ` +
        `${fmtBytes((g["Cached"] ?? 0) * 1024)}, anon ${fmtBytes((g["AnonPages"] ?? 0) * 1024)}, ` +
        `slab ${fmtBytes((g["Slab"] ?? 0) * 1024)}`,
    },
    {
      metric: "restored VM's QEMU after two commands: RSS / PSS",
      value: `${fmtBytes((inspection?.rssKb ?? Number.NaN) * 1024)} / ${fmtBytes((inspection?.pssKb ?? Number.NaN) * 1024)}`,
    },
  ];
}
