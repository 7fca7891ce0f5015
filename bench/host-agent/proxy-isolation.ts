/**
 * Proxy isolation and TLS cost, without capsules: a request on the agent's RPC port (a
 * trivial handler: what the event loop alone adds) idle and while 4 downloads flood `/proxy`,
 * once through `/proxy` on the RPC port (the proxy on the RPC event loop, as before the proxy
 * thread) and once through the proxy thread; plain HTTP and mTLS (TLS 1.3, client
 * certificates as registration issues them). Also the agent's CPU per MiB proxied. The
 * upstream is a Node server in a child process on loopback, the flood another child.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgentServer, type TlsMaterial } from "../../apps/host-agent/src/agent/agent-server.js";
import { PortProxy } from "../../apps/host-agent/src/proxy/port-proxy.js";
import { TestCa } from "../../apps/host-agent/src/registration/test-certs-test-helpers.js";
import { fmtSummary } from "../lib/format.js";
import { type Summary, summarize } from "../lib/stats.js";
import type { Row } from "../lib/table.js";
import { BENCH_PROCESS_MARKER } from "./environment.js";
import { startFlood } from "./load-client.js";

const FLOOD_CONNECTIONS = 4;
const FLOOD_BODY = 64 * 1048576;
/** `GET /big?bytes=N` from one 1 MiB buffer with back-pressure; prints its port. */
const UPSTREAM = `/* ${BENCH_PROCESS_MARKER} upstream */ const c=Buffer.alloc(1<<20,120);const s=require("node:http").createServer((q,r)=>{let l=Number(new URL(q.url,"http://u").searchParams.get("bytes"))||0;r.writeHead(200,{"content-length":String(l)});const p=()=>{while(l>0){const n=Math.min(l,c.length);l-=n;if(!r.write(n===c.length?c:c.subarray(0,n))){r.once("drain",p);return}}r.end()};p()}).listen(0,"127.0.0.1",()=>console.log(s.address().port))`;

/** CPU ticks (1/100 s) of this process (every thread) and of its main thread. */
async function ticks(): Promise<{ all: number; main: number }> {
  const of = async (tid: string) => {
    const f = (await readFile(`/proc/self/task/${tid}/stat`, "utf8").catch(() => ")")).split(")").pop()?.split(" ");
    return Number(f?.[12] ?? 0) + Number(f?.[13] ?? 0);
  };
  let all = 0;
  for (const tid of await readdir("/proc/self/task")) all += await of(tid);
  return { all, main: await of(String(process.pid)) };
}

async function startUpstream(): Promise<{ port: number } & AsyncDisposable> {
  const child = spawn(process.execPath, ["-e", UPSTREAM], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout, "data")) as [Buffer];
  return {
    port: Number(line.toString().trim()),
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    },
  };
}

interface Phase {
  readonly rtt: Summary;
  readonly mibps?: number;
  /** Agent CPU (all threads) per MiB moved, ms. */
  readonly cpuPerMib?: number;
  /** Share of a core the agent's main thread used. */
  readonly mainCore: number;
}

/** Request round trips on the RPC port for `ms`, with a flood of `floodUrl` meanwhile when given. */
async function phase(ping: () => Promise<void>, ms: number, floodUrl?: string, tlsDir?: string): Promise<Phase> {
  const flood = floodUrl ? startFlood(floodUrl, FLOOD_CONNECTIONS, tlsDir) : undefined;
  // Let the flood reach full speed before sampling.
  if (flood) await new Promise((r) => setTimeout(r, 1000));
  const t0 = await ticks();
  const start = performance.now();
  const rtt: number[] = [];
  while (performance.now() - start < ms) {
    const s = performance.now();
    await ping();
    rtt.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 5));
  }
  const sec = (performance.now() - start) / 1000;
  const t1 = await ticks();
  const moved = await flood?.stop();
  const mainCore = (t1.main - t0.main) / 100 / sec;
  if (!moved) return { rtt: summarize(rtt), mainCore };
  const mibps = moved.bytes / 1048576 / (moved.ms / 1000);
  return { rtt: summarize(rtt), mibps, cpuPerMib: ((t1.all - t0.all) * 10) / (mibps * sec), mainCore };
}

/** The rows of one transport (plain or mTLS). */
async function measure(
  upstreamPort: number,
  tls: TlsMaterial | undefined,
  client: TlsMaterial,
  tlsDir: string,
  ms: number,
) {
  const proxy = new PortProxy({ resolve: () => ({ guestIp: "127.0.0.1" }) });
  const server = await startAgentServer({
    host: "127.0.0.1",
    port: 0,
    proxyPort: 0,
    proxy,
    rpc: (_req, res) => res.end("pong"),
    ...(tls ? { tls } : {}),
  });
  const clientTls = { ca: client.ca, cert: client.cert, key: client.key };
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...clientTls })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const u = new URL(server.url);
  const ping = () =>
    new Promise<void>((resolve, reject) => {
      const send = tls ? httpsRequest : httpRequest;
      send({ host: u.hostname, port: u.port, path: "/ping", method: "POST", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      })
        .on("error", reject)
        .end();
    });
  try {
    const path = `/proxy/bench/${upstreamPort}/big?bytes=${FLOOD_BODY}`;
    const idle = await phase(ping, ms);
    const viaRpcPort = await phase(ping, ms, `${server.url}${path}`, tlsDir);
    const viaThread = await phase(ping, ms, `${server.proxyUrl}${path}`, tlsDir);
    return { idle, viaRpcPort, viaThread };
  } finally {
    agent.destroy();
    await server.closeAll();
    proxy.close();
  }
}

const flooded = (p: Phase) =>
  `${fmtSummary(p.rtt, "ms", 2)}; flood ${p.mibps?.toFixed(0)} MiB/s, agent ${p.cpuPerMib?.toFixed(2)} ms CPU/MiB, main thread ${(p.mainCore * 100).toFixed(0)} % of a core`;

/** The section's rows; `ms` is the sampling time of each phase. */
export async function benchProxyIsolation(ms: number): Promise<Row[]> {
  await using upstream = await startUpstream();
  await using ca = await TestCa.create();
  const host = await ca.issue("bench-host", "server");
  const cp = await ca.issue("bench-cp", "client");
  const tlsDir = await mkdtemp(join(tmpdir(), "wrenn-bench-tls-"));
  try {
    await writeFile(join(tlsDir, "ca.pem"), ca.ca.certPem);
    await writeFile(join(tlsDir, "cert.pem"), cp.certPem);
    await writeFile(join(tlsDir, "key.pem"), cp.keyPem, { mode: 0o600 });
    const client = { cert: cp.certPem, key: cp.keyPem, ca: ca.ca.certPem };
    const rows: Row[] = [];
    for (const tls of [undefined, { cert: host.certPem, key: host.keyPem, ca: ca.ca.certPem }]) {
      const name = tls ? "mTLS" : "plain";
      const r = await measure(upstream.port, tls, client, tlsDir, ms);
      rows.push(
        { metric: `${name}: request on the RPC port, idle`, value: fmtSummary(r.idle.rtt, "ms", 2) },
        {
          metric: `${name}: … while ${FLOOD_CONNECTIONS} downloads flood the proxy thread`,
          value: flooded(r.viaThread),
          floor: `idle: med ${r.idle.rtt.median.toFixed(2)} ms`,
        },
        {
          metric: `${name}: … while they flood /proxy on the RPC port (before)`,
          value: flooded(r.viaRpcPort),
          floor: `idle: med ${r.idle.rtt.median.toFixed(2)} ms`,
        },
      );
    }
    return rows;
  } finally {
    await rm(tlsDir, { recursive: true, force: true });
  }
}
