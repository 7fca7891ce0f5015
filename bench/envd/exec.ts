import { spawn } from "node:child_process";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Process } from "@wrenn/protocol/envd/process";
import { processCpuMs } from "../lib/cpu-time.js";
import { summarize, timeRuns } from "../lib/stats.js";
import { fmt, type Row } from "../lib/table.js";

function spawnAndWait(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "ignore"] });
    let bytes = 0;
    child.stdout.on("data", (d: Buffer) => {
      bytes += d.length;
    });
    child.on("error", reject);
    child.on("close", () => resolve(bytes));
  });
}

async function runViaEnvd(
  client: ReturnType<typeof createClient<typeof Process>>,
  cmd: string,
  args: string[],
): Promise<number> {
  let bytes = 0;
  let ended = false;
  for await (const res of client.start({ process: { cmd, args }, stdin: false })) {
    const ev = res.event?.event;
    if (ev?.case === "data" && ev.value.output.case === "stdout") bytes += ev.value.output.value.length;
    if (ev?.case === "end") ended = true;
  }
  if (!ended) throw new Error("stream closed without an end event");
  return bytes;
}

/** Runs `true` once through envd at `baseUrl` (binary Connect), e.g. to time the first command. */
export async function execOnce(baseUrl: string): Promise<void> {
  const client = createClient(Process, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }));
  await runViaEnvd(client, "true", []);
}

/**
 * Exec round trip of `true` and output throughput, each next to direct
 * spawning from Node; with `envdPid`, also envd's CPU time per command.
 */
export async function benchExec(baseUrl: string, runs: number, envdPid?: number): Promise<Row[]> {
  const binary = createClient(Process, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }));
  const json = createClient(Process, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }));
  // A capsule's envd is long-lived: measure it warmed up (JIT-compiled hot
  // paths), as a user's second and later commands see it.
  const warmup = Math.min(100, runs);
  const floor = summarize(await timeRuns(runs, () => spawnAndWait("true", []), warmup));
  const cpuBefore = envdPid === undefined ? Number.NaN : await processCpuMs(envdPid);
  const viaBinary = summarize(await timeRuns(runs, () => runViaEnvd(binary, "true", []), warmup));
  const cpuPerExec = envdPid === undefined ? Number.NaN : ((await processCpuMs(envdPid)) - cpuBefore) / (runs + warmup);
  const viaJson = summarize(await timeRuns(runs, () => runViaEnvd(json, "true", []), warmup));

  const size = 512 * 1024 * 1024;
  const args = ["-c", String(size), "/dev/zero"];
  let start = performance.now();
  const directBytes = await spawnAndWait("head", args);
  const directMiBs = directBytes / 1048576 / ((performance.now() - start) / 1000);
  start = performance.now();
  const envdBytes = await runViaEnvd(binary, "head", args);
  const envdMiBs = envdBytes / 1048576 / ((performance.now() - start) / 1000);
  if (envdBytes !== size) throw new Error(`streamed ${envdBytes} bytes, expected ${size}`);

  const ok = (v: number, limit: number) => (v < limit ? "ok" : "MISS");
  return [
    {
      metric: "exec `true` round trip, median (binary)",
      value: fmt(viaBinary.median, "ms"),
      floor: fmt(floor.median, "ms"),
      ratio: `${(viaBinary.median / floor.median).toFixed(1)}x`,
      target: "< 5 ms",
      verdict: ok(viaBinary.median, 5),
    },
    { metric: "exec `true` round trip, p99 (binary)", value: fmt(viaBinary.p99, "ms"), floor: fmt(floor.p99, "ms") },
    { metric: "envd CPU time per exec (binary)", value: fmt(cpuPerExec, "ms") },
    {
      metric: "exec `true` round trip, median (JSON, as the e2b SDK)",
      value: fmt(viaJson.median, "ms"),
      floor: fmt(floor.median, "ms"),
      ratio: `${(viaJson.median / floor.median).toFixed(1)}x`,
      target: "< 5 ms",
      verdict: ok(viaJson.median, 5),
    },
    { metric: "exec `true` round trip, p99 (JSON)", value: fmt(viaJson.p99, "ms"), floor: fmt(floor.p99, "ms") },
    {
      metric: "stdout streaming, 512 MiB",
      value: fmt(envdMiBs, "MiB/s", 0),
      floor: fmt(directMiBs, "MiB/s", 0),
      ratio: `${((envdMiBs / directMiBs) * 100).toFixed(0)}%`,
    },
  ];
}
