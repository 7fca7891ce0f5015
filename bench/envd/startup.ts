import { spawn } from "node:child_process";
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

/** envd start → first /health, next to a bare Node HTTP server's start → first response; plus idle RSS. */
export async function benchStartup(runs: number): Promise<Row[]> {
  const envdTimes: number[] = [];
  const floorTimes: number[] = [];
  let idleRss = 0;
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const envd = await timeToFirstResponse(
      [ENVD_BUNDLE, "--port", String(port), "--host", "127.0.0.1", "--log-level", "warn"],
      port,
      "/health",
    );
    envdTimes.push(envd.ms);
    if (i === runs - 1) {
      await new Promise((r) => setTimeout(r, 2000));
      idleRss = envd.child.pid ? await rssOf(envd.child.pid) : 0;
    }
    await stop(envd.child);
    const floorPort = await freePort();
    const floor = await timeToFirstResponse(
      ["-e", `require("node:http").createServer((q,s)=>s.end("ok")).listen(${floorPort},"127.0.0.1")`],
      floorPort,
      "/",
    );
    floorTimes.push(floor.ms);
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
      metric: "envd idle RSS (2 s after start)",
      value: fmt(idleRss / 1048576, "MiB", 1),
      target: "< 40 MiB",
      verdict: idleRss < 40 * 1048576 ? "ok" : "MISS",
    },
  ];
}
