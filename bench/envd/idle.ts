import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ENVD_BUNDLE } from "../../apps/envd/src/testing/spawn-envd.js";
import { summarize } from "../lib/stats.js";
import { fmt, type Row } from "../lib/table.js";
import { CAPSULE_ADDRESS, cpuTimes, ENVD_PORT, type NetnsProcess, startInNetns } from "./capsule-netns.js";

/** How much to measure; `./wrenn bench envd --idle [--quick]` picks these. */
export interface IdleBenchOptions {
  /** envd processes measured together per configuration (each in its own namespace). */
  readonly count: number;
  /** Length of one measurement window, ms. */
  readonly windowMs: number;
  /** Windows per configuration; the table shows their median. */
  readonly windows: number;
  /** Servers started per listen → reachable measurement. */
  readonly latencyRuns: number;
  /** Quiet time before each server in the "started outside envd" measurement, ms. */
  readonly outsideGapMs: number;
  readonly bundle?: string;
}

const LATENCY_SCRIPT = fileURLToPath(new URL("./listen-latency.ts", import.meta.url));

/** Idle CPU of one configuration: % of one core per process, user and system parts. */
interface IdleCpu {
  readonly total: number;
  readonly user: number;
  readonly sys: number;
}

/**
 * Measures `procs` for `windows` windows of `windowMs`: each window's value
 * is the CPU all of them used divided by their number and the window's wall
 * time (the sum of many processes beats /proc's 10 ms tick resolution);
 * returns the median window.
 */
async function idleCpu(procs: readonly NetnsProcess[], windowMs: number, windows: number): Promise<IdleCpu> {
  const totals: number[] = [];
  const users: number[] = [];
  const syss: number[] = [];
  for (let w = 0; w < windows; w++) {
    const before = await Promise.all(procs.map((p) => cpuTimes(p.pid)));
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const after = await Promise.all(procs.map((p) => cpuTimes(p.pid)));
    const wall = performance.now() - t0;
    let user = 0;
    let sys = 0;
    after.forEach((a, i) => {
      user += a.userMs - (before[i]?.userMs ?? a.userMs);
      sys += a.sysMs - (before[i]?.sysMs ?? a.sysMs);
    });
    const pct = (ms: number) => (ms / procs.length / wall) * 100;
    totals.push(pct(user + sys));
    users.push(pct(user));
    syss.push(pct(sys));
  }
  return { total: summarize(totals).median, user: summarize(users).median, sys: summarize(syss).median };
}

/** Starts `count` processes, each alone in its own namespace; disposes them all on failure. */
async function startMany(count: number, argv: readonly string[], readyPort: number): Promise<NetnsProcess[]> {
  const procs: NetnsProcess[] = [];
  try {
    // One at a time: envd's start is CPU-bound and the machine is small.
    for (let i = 0; i < count; i++) procs.push(await startInNetns(argv, readyPort));
    return procs;
  } catch (err) {
    await Promise.all(procs.map((p) => p[Symbol.asyncDispose]()));
    throw err;
  }
}

/** Runs listen-latency.ts inside `proc`'s namespace and returns its latencies. */
async function listenLatencies(proc: NetnsProcess, mode: "envd" | "outside", runs: number, gapMs: number) {
  const args = [
    ...proc.nsenter,
    process.execPath,
    "--import",
    "tsx",
    LATENCY_SCRIPT,
    `--mode=${mode}`,
    `--forward=${CAPSULE_ADDRESS}`,
    `--envd=http://127.0.0.1:${ENVD_PORT}`,
    `--runs=${runs}`,
    `--gap-ms=${gapMs}`,
    `--first-port=${mode === "envd" ? 20000 : 21000}`,
  ];
  const child = spawn("nsenter", args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`listen-latency.ts (${mode}) exited with ${code}`);
  return (JSON.parse(out) as { latenciesMs: number[] }).latenciesMs;
}

/** Runs one command in each envd through listen-latency.ts (a server that is reached once). */
async function runOneCommandEach(procs: readonly NetnsProcess[]): Promise<void> {
  for (const p of procs) await listenLatencies(p, "envd", 1, 0);
}

const pct = (v: number) => fmt(v, "%", 3);
const cpuRow = (metric: string, cpu: IdleCpu, floor?: IdleCpu, target?: string): Row => ({
  metric,
  value: `${pct(cpu.total)} (user ${cpu.user.toFixed(3)} · sys ${cpu.sys.toFixed(3)})`,
  floor: floor ? pct(floor.total) : "",
  target: target ?? "",
  verdict: target ? (cpu.total < 0.3 ? "ok" : "MISS") : "",
});

/**
 * Idle cost of envd as in a namespace capsule (alone in a network namespace,
 * forwarding localhost listeners to CAPSULE_ADDRESS), next to envd without
 * forwarding and a bare Node HTTP server (the floor), plus the time from a
 * server's listen() on 127.0.0.1 to its port answering on the capsule address.
 */
export async function benchIdle(opts: IdleBenchOptions): Promise<Row[]> {
  const bundle = opts.bundle ?? ENVD_BUNDLE;
  const envdArgv = (forward: boolean) => [
    process.execPath,
    bundle,
    "--port",
    String(ENVD_PORT),
    "--log-level",
    "warn",
    ...(forward ? ["--forward-address", CAPSULE_ADDRESS] : []),
  ];
  const floorArgv = [
    process.execPath,
    "-e",
    `require("node:http").createServer((q,s)=>s.end("ok")).listen(${ENVD_PORT})`,
  ];
  // Let start-up work (JIT, GC of start-up garbage, lazy imports) finish first.
  const settle = () => new Promise((r) => setTimeout(r, 3000));
  const measure = async (argv: readonly string[], before?: (p: NetnsProcess[]) => Promise<void>) => {
    const procs = await startMany(opts.count, argv, ENVD_PORT);
    try {
      if (before) await before(procs);
      await settle();
      return await idleCpu(procs, opts.windowMs, opts.windows);
    } finally {
      await Promise.all(procs.map((p) => p[Symbol.asyncDispose]()));
    }
  };
  const floor = await measure(floorArgv);
  const noForward = await measure(envdArgv(false));
  const forward = await measure(envdArgv(true));
  // After a command the forwarder may scan faster for a while: measure once it settled.
  const afterCommand = await measure(envdArgv(true), async (procs) => {
    await runOneCommandEach(procs);
    await new Promise((r) => setTimeout(r, 15_000));
  });

  let viaEnvd: number[];
  let outside: number[];
  {
    const [proc] = await startMany(1, envdArgv(true), ENVD_PORT);
    if (!proc) throw new Error("no envd");
    await using _ = proc;
    await settle();
    viaEnvd = await listenLatencies(proc, "envd", opts.latencyRuns, 0);
    outside = await listenLatencies(proc, "outside", opts.latencyRuns, opts.outsideGapMs);
  }
  const lat = (s: number[]) => {
    const x = summarize(s);
    return `med ${x.median.toFixed(0)} · max ${Math.max(...s).toFixed(0)} ms (n=${x.n})`;
  };
  const n = `${opts.count} processes, median of ${opts.windows} × ${opts.windowMs / 1000} s`;
  return [
    cpuRow(`idle CPU per envd as in a capsule (forwarding on; ${n})`, forward, floor, "< 0.3 %"),
    cpuRow("idle CPU per envd, forwarding on, 15 s after one command", afterCommand, floor, "< 0.3 %"),
    cpuRow("idle CPU per envd, forwarding off (no --forward-address)", noForward, floor),
    cpuRow("idle CPU of a bare Node HTTP server (the floor)", floor),
    { metric: "listen → reachable on the capsule address, server run by envd", value: lat(viaEnvd) },
    {
      metric: `listen → reachable, server started outside envd after ${opts.outsideGapMs / 1000} s quiet`,
      value: lat(outside),
    },
  ];
}
