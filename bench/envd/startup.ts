import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { ENVD_BUNDLE, freePort, rssOf } from "../../apps/envd/src/testing/spawn-envd.js";
import { summarize } from "../lib/stats.js";
import { fmt, type Row } from "../lib/table.js";

/** Spawns `args` under node and measures ms until GET /health (or /) on `port` answers; returns time and pid. */
async function timeToFirstResponse(args: string[], port: number, path: string) {
  const start = performance.now();
  const child = spawn(process.execPath, args, { stdio: "ignore" });
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`${args.join(" ")} exited before answering`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return { ms: performance.now() - start, child };
}

function stop(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Resident memory of an idle process: total, and the anonymous part that is not the shared node binary. */
interface IdleMemory {
  rss: number;
  anon: number;
}

async function idleMemory(pid: number): Promise<IdleMemory> {
  await new Promise((r) => setTimeout(r, 2000));
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0) * 1024;
  return { rss: await rssOf(pid), anon: kb("Anonymous") };
}

/** envd start → first /health, next to a bare Node HTTP server's start → first response; plus idle RSS. */
export async function benchStartup(runs: number): Promise<Row[]> {
  const envdTimes: number[] = [];
  const floorTimes: number[] = [];
  let idle: IdleMemory = { rss: 0, anon: 0 };
  let floorIdle: IdleMemory = { rss: 0, anon: 0 };
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const envd = await timeToFirstResponse(
      [ENVD_BUNDLE, "--port", String(port), "--host", "127.0.0.1", "--log-level", "warn"],
      port,
      "/health",
    );
    envdTimes.push(envd.ms);
    if (i === runs - 1 && envd.child.pid) idle = await idleMemory(envd.child.pid);
    await stop(envd.child);
    const floorPort = await freePort();
    const floor = await timeToFirstResponse(
      ["-e", `require("node:http").createServer((q,s)=>s.end("ok")).listen(${floorPort},"127.0.0.1")`],
      floorPort,
      "/",
    );
    floorTimes.push(floor.ms);
    if (i === runs - 1 && floor.child.pid) floorIdle = await idleMemory(floor.child.pid);
    await stop(floor.child);
  }
  const envd = summarize(envdTimes);
  const floor = summarize(floorTimes);
  return [
    {
      metric: "envd start → first /health, median",
      value: fmt(envd.median, "ms", 1),
      floor: fmt(floor.median, "ms", 1),
      ratio: `${(envd.median / floor.median).toFixed(2)}x`,
      target: "< 100 ms",
      verdict: envd.median < 100 ? "ok" : "MISS",
    },
    {
      metric: "idle RSS (2 s after start)",
      value: fmt(idle.rss / 1048576, "MiB", 1),
      floor: fmt(floorIdle.rss / 1048576, "MiB", 1),
      ratio: `${(idle.rss / floorIdle.rss).toFixed(2)}x`,
      target: "< 40 MiB",
      verdict: idle.rss < 40 * 1048576 ? "ok" : "MISS",
    },
    {
      metric: "idle private memory (anonymous pages)",
      value: fmt(idle.anon / 1048576, "MiB", 1),
      floor: fmt(floorIdle.anon / 1048576, "MiB", 1),
      ratio: `${(idle.anon / floorIdle.anon).toFixed(2)}x`,
    },
  ];
}
