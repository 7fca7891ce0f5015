/**
 * Port proxy throughput: `/proxy/{id}/{port}` next to two floors measured in the same run —
 * a bare Node proxy hop in the same process, and the guest port reached directly.
 */
import { fmtBytes, fmtRatio } from "../lib/format.js";
import type { Row } from "../lib/table.js";
import type { BenchAgent } from "./agent.js";
import { startBareProxy } from "./bare-proxy.js";
import { GUEST_PORT, guestUrls } from "./guest-server.js";
import type { LoadResult } from "./http-load.js";
import { runLoad } from "./load-client.js";
import type { BenchPlan } from "./options.js";

const CONCURRENCY = 16;

const mibps = (r: LoadResult) => r.bytes / 1048576 / (r.ms / 1000);
const rps = (r: LoadResult) => r.requests / (r.ms / 1000);
const lat = (r: LoadResult) => `med ${r.latency?.median.toFixed(2)} · p99 ${r.latency?.p99.toFixed(2)} ms`;

/** Large download and many small requests through each path; the guest server must be running. */
export async function benchProxy(
  agent: BenchAgent,
  sandboxId: string,
  plan: BenchPlan,
  signal: AbortSignal,
): Promise<Row[]> {
  const { proxied, direct } = guestUrls(agent, sandboxId);
  await using bare = await startBareProxy(agent.guestIp(sandboxId), GUEST_PORT);
  const paths = { agent: proxied, bare: bare.url, direct } as const;
  // A TCG guest moves data 20–30× slower: a smaller body keeps the run short.
  const bytes = agent.kind === "qemu" ? plan.downloadBytes / 8 : plan.downloadBytes;
  const repeats = plan.downloadRepeats;
  const count = String(agent.kind === "qemu" ? Math.ceil(plan.smallRequests / 10) : plan.smallRequests);

  type Path = keyof typeof paths;
  const each = async (args: (base: string) => string[]) => {
    const out = {} as Record<Path, LoadResult>;
    for (const k of ["direct", "bare", "agent"] as const) out[k] = await runLoad(args(paths[k]), signal);
    return out;
  };
  // Repeats interleave the three paths, so a load swing on this shared machine hits each alike.
  const big = {} as Record<Path, LoadResult>;
  for (let r = 0; r < plan.downloadRepeats; r++) {
    const round = await each((b) => ["download", `${b}/big?bytes=${bytes}`, "1"]);
    for (const [k, v] of Object.entries(round) as [Path, LoadResult][]) {
      if (v.bytes !== bytes) throw new Error(`downloaded ${v.bytes} of ${bytes} bytes through ${k}`);
      const best = big[k];
      if (!best || mibps(v) > mibps(best)) big[k] = v;
    }
  }
  const one = await each((b) => ["small", `${b}/small`, count, "1"]);
  const many = await each((b) => ["small", `${b}/small`, count, String(CONCURRENCY)]);
  return [
    {
      metric: `large download (${fmtBytes(bytes)}, best of ${repeats})`,
      value: `${mibps(big.agent).toFixed(0)} MiB/s via /proxy`,
      floor: `bare Node hop ${mibps(big.bare).toFixed(0)} MiB/s; direct ${mibps(big.direct).toFixed(0)} MiB/s`,
      ratio: `${((mibps(big.agent) / mibps(big.bare)) * 100).toFixed(0)}% of bare`,
    },
    {
      metric: `small GETs, 1 at a time (${count}, keep-alive)`,
      value: `${rps(one.agent).toFixed(0)} req/s; ${lat(one.agent)}`,
      floor: `bare ${rps(one.bare).toFixed(0)} req/s, ${lat(one.bare)}; direct ${rps(one.direct).toFixed(0)} req/s, ${lat(one.direct)}`,
      ratio: fmtRatio(one.agent.latency?.median ?? Number.NaN, one.bare.latency?.median ?? Number.NaN),
    },
    {
      metric: `small GETs, ${CONCURRENCY} at a time (${count})`,
      value: `${rps(many.agent).toFixed(0)} req/s; ${lat(many.agent)}`,
      floor: `bare ${rps(many.bare).toFixed(0)} req/s, ${lat(many.bare)}; direct ${rps(many.direct).toFixed(0)} req/s, ${lat(many.direct)}`,
      ratio: `${((rps(many.agent) / rps(many.bare)) * 100).toFixed(0)}% of bare`,
    },
  ];
}
