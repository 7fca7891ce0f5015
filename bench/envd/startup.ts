import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { ENVD_BUNDLE, freePort } from "../../apps/envd/src/testing/spawn-envd.js";
import { below, fmtRatio } from "../lib/format.js";
import { type ProcMemory, processMemory } from "../lib/memory.js";
import { summarize } from "../lib/stats.js";
import { fmt, type Row } from "../lib/table.js";
import { execOnce } from "./exec.js";
import { CAPSULE_ENV } from "./first-use.js";

const BARE_SERVER = (port: number) =>
  `require("node:http").createServer((q,s)=>s.end("ok")).listen(${port},"127.0.0.1")`;

/** Spawns `args` under node and measures ms until GET `path` on `port` answers. */
async function timeToFirstResponse(args: string[], port: number, path: string) {
  const start = performance.now();
  // The capsule's environment, not this shell's (see CAPSULE_ENV).
  const child = spawn(process.execPath, args, { stdio: "ignore", env: CAPSULE_ENV });
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

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Memory of a process once it has been idle for 2 s (startup garbage collected, timers settled). */
async function idleMemory(child: ChildProcess): Promise<ProcMemory> {
  await new Promise((r) => setTimeout(r, 2000));
  const memory = child.pid === undefined ? undefined : await processMemory(child.pid);
  if (!memory) throw new Error("the process exited before its memory was read");
  return memory;
}

const mib = (bytes: number) => fmt(bytes / 1048576, "MiB", 1);

/**
 * envd start → first /health next to a bare Node HTTP server's start → first
 * response (runs alternate, so both see the same neighbours); idle memory of
 * both (RSS, PSS, private anonymous pages); and what the first use costs:
 * the first command's latency (envd loads its process code then) and the
 * memory once every part of envd has been used.
 */
export async function benchStartup(runs: number, bundle = ENVD_BUNDLE): Promise<Row[]> {
  const envdTimes: number[] = [];
  const floorTimes: number[] = [];
  let idle: ProcMemory | undefined;
  let floorIdle: ProcMemory | undefined;
  let used: ProcMemory | undefined;
  let firstExecMs = Number.NaN;
  for (let i = 0; i < runs; i++) {
    const last = i === runs - 1;
    const port = await freePort();
    const envd = await timeToFirstResponse(
      [bundle, "--port", String(port), "--host", "127.0.0.1", "--log-level", "warn"],
      port,
      "/health",
    );
    envdTimes.push(envd.ms);
    if (last) {
      idle = await idleMemory(envd.child);
      const url = `http://127.0.0.1:${port}`;
      const start = performance.now();
      await execOnce(url);
      firstExecMs = performance.now() - start;
      await useFiles(url);
      used = await idleMemory(envd.child);
    }
    await stop(envd.child);
    const floorPort = await freePort();
    const floor = await timeToFirstResponse(["-e", BARE_SERVER(floorPort)], floorPort, "/");
    floorTimes.push(floor.ms);
    if (last) floorIdle = await idleMemory(floor.child);
    await stop(floor.child);
  }
  if (!idle || !floorIdle || !used) throw new Error("no runs");
  const envd = summarize(envdTimes);
  const floor = summarize(floorTimes);
  return [
    {
      metric: "envd start → first /health, median",
      value: fmt(envd.median, "ms", 1),
      floor: fmt(floor.median, "ms", 1),
      ratio: fmtRatio(envd.median, floor.median),
      target: "< 100 ms",
      verdict: below(envd.median, 100),
    },
    {
      metric: "envd start → first /health, fastest run",
      value: fmt(envd.min, "ms", 1),
      floor: fmt(floor.min, "ms", 1),
      ratio: fmtRatio(envd.min, floor.min),
    },
    {
      metric: "first command after start (loads process code)",
      value: fmt(firstExecMs, "ms", 1),
    },
    {
      metric: "idle RSS (2 s after start)",
      value: mib(idle.rss),
      floor: mib(floorIdle.rss),
      ratio: fmtRatio(idle.rss, floorIdle.rss),
      target: "< 40 MiB",
      verdict: below(idle.rss, 40 * 1048576),
    },
    {
      metric: "idle PSS (node binary shared with other node processes)",
      value: mib(idle.pss),
      floor: mib(floorIdle.pss),
      ratio: fmtRatio(idle.pss, floorIdle.pss),
    },
    {
      metric: "idle private memory (anonymous pages)",
      value: mib(idle.pssAnon),
      floor: mib(floorIdle.pssAnon),
      ratio: fmtRatio(idle.pssAnon, floorIdle.pssAnon),
    },
    {
      metric: "idle RSS / private after a command and a file round trip",
      value: `${mib(used.rss)} / ${mib(used.pssAnon)}`,
    },
  ];
}

/** Uploads and downloads a small file, so the /files code is loaded too. */
async function useFiles(url: string): Promise<void> {
  const path = `/tmp/wrenn-bench-startup-${process.pid}.txt`;
  const target = `${url}/files?path=${encodeURIComponent(path)}`;
  const up = await fetch(target, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: "x",
  });
  await up.arrayBuffer();
  const down = await fetch(target);
  await down.arrayBuffer();
  if (!up.ok || !down.ok) throw new Error(`file round trip failed: ${up.status} ${down.status}`);
  await rm(path, { force: true });
}
