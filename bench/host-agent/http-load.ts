/**
 * HTTP load generator, run as its own process so the measured agent does not share an event
 * loop with its client. Prints one JSON line with the result.
 *   download <url> <repeats>          GET a large body `repeats` times; best throughput
 *   small <url> <count> <concurrency> `count` small GETs over keep-alive connections
 *   flood <url> <connections> [tlsDir] large GETs back to back until stdin closes; an https URL
 *                                     presents tlsDir/{cert,key}.pem and trusts tlsDir/ca.pem (mTLS)
 * Only ever pointed at loopback (the agent's proxy) or a capsule's own address.
 */
import { readFileSync } from "node:fs";
import { Agent, get } from "node:http";
import { Agent as HttpsAgent, get as httpsGet } from "node:https";
import { join } from "node:path";
import { summarize } from "../lib/stats.js";

/** Result of one load run. */
export interface LoadResult {
  readonly bytes: number;
  readonly ms: number;
  readonly requests: number;
  /** Per-request latency (small mode), ms. */
  readonly latency?: { readonly median: number; readonly p99: number };
}

/** GETs `url` and drains the body; resolves with the body length. */
function fetchBody(url: string, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const fetch = agent instanceof HttpsAgent ? httpsGet : get;
    fetch(url, { agent }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url} answered ${res.statusCode}`));
        return;
      }
      let n = 0;
      res.on("data", (d: Buffer) => {
        n += d.length;
      });
      res.on("end", () => resolve(n));
      res.on("error", reject);
    }).on("error", reject);
  });
}

async function download(url: string, repeats: number): Promise<LoadResult> {
  let best: LoadResult | undefined;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const bytes = await fetchBody(url, false);
    const ms = performance.now() - t0;
    if (!best || bytes / ms > best.bytes / best.ms) best = { bytes, ms, requests: 1 };
  }
  if (!best) throw new Error("no download ran");
  return best;
}

async function small(url: string, count: number, concurrency: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let bytes = 0;
  let next = 0;
  // Warm the connections up first: the measurement is of requests, not of TCP handshakes.
  await Promise.all(Array.from({ length: concurrency }, () => fetchBody(url, agent)));
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const s = performance.now();
        bytes += await fetchBody(url, agent);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const ms = performance.now() - t0;
  agent.destroy();
  const l = summarize(latencies);
  return { bytes, ms, requests: latencies.length, latency: { median: l.median, p99: l.p99 } };
}

/** A one-socket keep-alive agent for `url`: mTLS with the PEM files in `tlsDir` for https. */
function floodAgent(url: string, tlsDir: string | undefined): Agent {
  if (!url.startsWith("https:")) return new Agent({ keepAlive: true, maxSockets: 1 });
  if (tlsDir === undefined) throw new Error("an https flood needs the directory of ca.pem, cert.pem and key.pem");
  const pem = (name: string) => readFileSync(join(tlsDir, name), "utf8");
  return new HttpsAgent({
    keepAlive: true,
    maxSockets: 1,
    ca: pem("ca.pem"),
    cert: pem("cert.pem"),
    key: pem("key.pem"),
  });
}

async function flood(url: string, connections: number, tlsDir?: string): Promise<LoadResult> {
  let stopped = false;
  let bytes = 0;
  let requests = 0;
  process.stdin.resume();
  process.stdin.on("end", () => {
    stopped = true;
  });
  const t0 = performance.now();
  const loops = Array.from({ length: connections }, async () => {
    const agent = floodAgent(url, tlsDir);
    while (!stopped) {
      bytes += await fetchBody(url, agent);
      requests++;
    }
    agent.destroy();
  });
  await Promise.all(loops);
  return { bytes, ms: performance.now() - t0, requests };
}

async function main(argv: readonly string[]): Promise<LoadResult> {
  const [mode, url, a, b] = argv;
  // The last argument is the process marker (load-client.ts), never a setting.
  const tlsDir = b?.startsWith("/") ? b : undefined;
  if (!url) throw new Error("usage: http-load download|small|flood <url> ...");
  if (mode === "download") return download(url, Number(a ?? 1));
  if (mode === "small") return small(url, Number(a ?? 1000), Number(b ?? 1));
  if (mode === "flood") return flood(url, Number(a ?? 4), tlsDir);
  throw new Error(`unknown mode ${mode}`);
}

if (process.argv[1]?.endsWith("http-load.ts")) {
  main(process.argv.slice(2)).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`http-load: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
