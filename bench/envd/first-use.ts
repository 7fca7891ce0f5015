import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Filesystem } from "@wrenn/protocol/envd/filesystem";
import { Process } from "@wrenn/protocol/envd/process";
import { freePort } from "../../apps/envd/src/testing/spawn-envd.js";
import { fmtRatio } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import { fmt, type Row } from "../lib/table.js";

/** One way of starting envd: which bundle, under which node flags. */
export interface EnvdVariant {
  readonly label: string;
  readonly bundle: string;
  /** Flags before the bundle on node's command line (e.g. V8 flags). @default [] */
  readonly nodeArgs?: readonly string[];
}

/** Memory of one process from /proc/<pid>/smaps_rollup, bytes. */
export interface Footprint {
  readonly rss: number;
  readonly pss: number;
  /** Unique set size: pages only this process maps (Private_Clean + Private_Dirty). */
  readonly uss: number;
}

/** Reads RSS, PSS and USS of `pid`; throws if the process is gone. */
export async function footprint(pid: number): Promise<Footprint> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb("Rss"), pss: kb("Pss"), uss: kb("Private_Clean") + kb("Private_Dirty") };
}

const TOKEN = "bench-first-use-token";

/**
 * The environment envd gets in a capsule (capsule-init sets exactly these).
 * Not this shell's: e.g. NODE_EXTRA_CA_CERTS, set on the dev machine, makes
 * every node start read and parse a CA bundle (~100 ms CPU, +2 MiB).
 */
export const CAPSULE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
};

/** A started process and the ms from spawn to its first 200 on `path`. */
async function startAndWait(args: readonly string[], port: number, path: string) {
  const start = performance.now();
  const child = spawn(process.execPath, args, { stdio: "ignore", env: CAPSULE_ENV });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`${args.at(-1)} exited (${code}) before answering`))),
  );
  exited.catch(() => {});
  for (;;) {
    const ok = await Promise.race([
      fetch(`http://127.0.0.1:${port}${path}`).then(
        (r) => r.arrayBuffer().then(() => r.ok),
        () => false,
      ),
      exited,
    ]);
    if (ok) return { ms: performance.now() - start, child };
    await new Promise((r) => setTimeout(r, 1));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * CPU time all threads of `pid` have run, ms, from each thread's schedstat
 * (nanoseconds, unlike /proc/<pid>/stat's 10 ms ticks).
 */
export async function cpuMs(pid: number): Promise<number> {
  const tasks = await readdir(`/proc/${pid}/task`);
  let ns = 0;
  for (const t of tasks) {
    const text = await readFile(`/proc/${pid}/task/${t}/schedstat`, "utf8").catch(() => "0");
    ns += Number(text.split(" ")[0]);
  }
  return ns / 1e6;
}

/** Wall and envd CPU time of `fn`, ms. */
async function timedWithCpu(pid: number, fn: () => Promise<unknown>): Promise<Timing> {
  const cpu0 = await cpuMs(pid);
  const wall = await timed(fn);
  return { wall, cpu: (await cpuMs(pid)) - cpu0 };
}

/** Wall-clock time of a call and the CPU time envd spent meanwhile, ms. */
interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

/** The clients a host agent would use against one envd (binary Connect over HTTP/1.1, access token). */
function clientsFor(baseUrl: string) {
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    useBinaryFormat: true,
    interceptors: [
      (next) => (req) => {
        req.header.set("x-access-token", TOKEN);
        return next(req);
      },
    ],
  });
  return { process: createClient(Process, transport), fs: createClient(Filesystem, transport) };
}

async function runTrue(client: ReturnType<typeof clientsFor>["process"]): Promise<void> {
  let ended = false;
  for await (const res of client.start({ process: { cmd: "true", args: [] }, stdin: false })) {
    if (res.event?.event.case === "end") ended = true;
  }
  if (!ended) throw new Error("stream closed without an end event");
}

async function init(baseUrl: string): Promise<void> {
  const res = await fetch(`${baseUrl}/init`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ accessToken: TOKEN, envVars: { BENCH: "1" }, timestamp: new Date().toISOString() }),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`/init answered ${res.status}`);
}

/** What one fresh envd took for each first call, ms. */
interface FirstUse {
  readonly health: Timing;
  readonly init: Timing;
  readonly firstStart: Timing;
  /** Median of Start `true` calls 2–10. */
  readonly laterStart: Timing;
  readonly firstStat: Timing;
}

/** Starts `variant` on a free port; the caller stops the child. */
async function startEnvd(variant: EnvdVariant) {
  const port = await freePort();
  const args = [...(variant.nodeArgs ?? []), variant.bundle, "--port", String(port), "--host", "127.0.0.1"];
  const started = await startAndWait([...args, "--log-level", "warn"], port, "/health");
  return { ...started, baseUrl: `http://127.0.0.1:${port}`, pid: started.child.pid ?? Number.NaN };
}

/** Ten `true` commands and a Stat, as a client's first minute might. */
async function useOnce(clients: ReturnType<typeof clientsFor>): Promise<void> {
  for (let i = 0; i < 10; i++) await runTrue(clients.process);
  await clients.fs.stat({ path: "/" });
}

/** Starts envd, then runs what a host agent does after a create: /init, commands, a filesystem call. */
async function firstUseOnce(variant: EnvdVariant, afterInitMs: number): Promise<FirstUse> {
  const { ms: healthMs, child, baseUrl, pid } = await startEnvd(variant);
  try {
    const health = { wall: healthMs, cpu: await cpuMs(pid) };
    const clients = clientsFor(baseUrl);
    const initTiming = await timedWithCpu(pid, () => init(baseUrl));
    if (afterInitMs > 0) await new Promise((r) => setTimeout(r, afterInitMs));
    const firstStart = await timedWithCpu(pid, () => runTrue(clients.process));
    const later: Timing[] = [];
    for (let i = 0; i < 9; i++) later.push(await timedWithCpu(pid, () => runTrue(clients.process)));
    const firstStat = await timedWithCpu(pid, () => clients.fs.stat({ path: "/" }));
    const laterStart = { wall: med(later.map((t) => t.wall)), cpu: med(later.map((t) => t.cpu)) };
    return { health, init: initTiming, firstStart, laterStart, firstStat };
  } finally {
    await stop(child);
  }
}

/** Memory of one envd left alone 2 s after start, 2 s after /init, and 2 s after first use. */
interface MemoryStages {
  readonly idle: Footprint;
  readonly afterInit: Footprint;
  readonly used: Footprint;
}

async function memoryOnce(variant: EnvdVariant): Promise<MemoryStages> {
  const { child, baseUrl, pid } = await startEnvd(variant);
  try {
    const idle = await settledFootprint(pid);
    await init(baseUrl);
    const afterInit = await settledFootprint(pid);
    await useOnce(clientsFor(baseUrl));
    return { idle, afterInit, used: await settledFootprint(pid) };
  } finally {
    await stop(child);
  }
}

/** Memory once the process has been left alone for 2 s (start-up garbage collected, timers settled). */
async function settledFootprint(pid: number): Promise<Footprint> {
  await new Promise((r) => setTimeout(r, 2000));
  return footprint(pid);
}

/** Same-run floors: `node --version`, and a bare `node -e` HTTP server's start → first response. */
async function floorsOnce() {
  const version = await timed(
    () =>
      new Promise((resolve) =>
        spawn(process.execPath, ["--version"], { stdio: "ignore", env: CAPSULE_ENV }).once("exit", resolve),
      ),
  );
  const port = await freePort();
  const server = `require("node:http").createServer((q,s)=>s.end("ok")).listen(${port},"127.0.0.1")`;
  const { ms, child } = await startAndWait(["-e", server], port, "/");
  await stop(child);
  return { version, bareListen: ms };
}

const mib = (b: number) => fmt(b / 1048576, "MiB", 1);
const ms = (v: number) => fmt(v, "ms", 1);
const med = (xs: readonly number[]) => summarize(xs).median;

/**
 * Start → /health, first /init, first and later process Starts and the first
 * filesystem call of freshly started envds (a new process per run, variants
 * interleaved run by run so neighbours hit them alike), with idle memory
 * (RSS, PSS, USS) 2 s after start and after that first use. Floors from the
 * same run: `node --version`, a bare `node -e` listening server (time and
 * memory). Medians over `runs`. `afterInitMs` is a pause between /init and
 * the first Start, as a remote client's round trip would make.
 */
export async function benchFirstUse(runs: number, variants: readonly EnvdVariant[], afterInitMs = 0): Promise<Row[]> {
  // The bench's own Connect client compiles on its first use: warm it on a throwaway envd.
  const first = variants[0];
  if (!first) throw new Error("no variant");
  await firstUseOnce(first, 0);
  const times = variants.map(() => [] as FirstUse[]);
  const versions: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [v, variant] of variants.entries()) times[v]?.push(await firstUseOnce(variant, afterInitMs));
    const floor = await floorsOnce();
    versions.push(floor.version);
    bare.push(floor.bareListen);
  }
  // Memory varies little from run to run: two runs per variant, interleaved too.
  const memories = variants.map(() => [] as MemoryStages[]);
  for (let i = 0; i < 2; i++) {
    for (const [v, variant] of variants.entries()) memories[v]?.push(await memoryOnce(variant));
  }
  const bareMemory = await bareIdleFootprint();
  const bareMs = med(bare);
  const rows: Row[] = [
    { metric: "floor: node --version", value: ms(med(versions)) },
    { metric: "floor: bare node -e server, start → first response", value: ms(bareMs) },
  ];
  rows.push({
    metric: "floor: bare node -e server idle RSS / PSS / USS",
    value: `${mib(bareMemory.rss)} / ${mib(bareMemory.pss)} / ${mib(bareMemory.uss)}`,
  });
  for (const [v, variant] of variants.entries()) {
    const r = { times: times[v] ?? [], memory: memories[v] ?? [] };
    const p = variants.length > 1 ? `[${variant.label}] ` : "";
    const pick = (f: (t: FirstUse) => Timing) => med(r.times.map((t) => f(t).wall));
    const both = (f: (t: FirstUse) => Timing) => `${ms(pick(f))} (envd CPU ${ms(med(r.times.map((t) => f(t).cpu)))})`;
    const memory = (xs: Footprint[]) =>
      `${mib(med(xs.map((x) => x.rss)))} / ${mib(med(xs.map((x) => x.pss)))} / ${mib(med(xs.map((x) => x.uss)))}`;
    const health = pick((t) => t.health);
    rows.push(
      {
        metric: `${p}start → first /health`,
        value: both((t) => t.health),
        floor: ms(bareMs),
        ratio: fmtRatio(health, bareMs),
        target: "< 100 ms",
      },
      { metric: `${p}first /init`, value: both((t) => t.init) },
      {
        metric: `${p}first Start \`true\` (${afterInitMs > 0 ? `${afterInitMs} ms ` : "right "}after /init)`,
        value: both((t) => t.firstStart),
      },
      { metric: `${p}Start \`true\` 2nd–10th, median`, value: both((t) => t.laterStart) },
      { metric: `${p}first filesystem call (Stat /)`, value: both((t) => t.firstStat) },
      {
        metric: `${p}idle RSS / PSS / USS, 2 s after start`,
        value: memory(r.memory.map((m) => m.idle)),
        target: "RSS < 40 MiB",
      },
      { metric: `${p}idle RSS / PSS / USS, 2 s after /init`, value: memory(r.memory.map((m) => m.afterInit)) },
      {
        metric: `${p}idle RSS / PSS / USS after 10 Starts and a Stat`,
        value: memory(r.memory.map((m) => m.used)),
      },
    );
  }
  return rows;
}

async function bareIdleFootprint(): Promise<Footprint> {
  const port = await freePort();
  const server = `require("node:http").createServer((q,s)=>s.end("ok")).listen(${port},"127.0.0.1")`;
  const { child } = await startAndWait(["-e", server], port, "/");
  try {
    return await settledFootprint(child.pid ?? Number.NaN);
  } finally {
    await stop(child);
  }
}
