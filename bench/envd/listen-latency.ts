// Runs inside a capsule-like network namespace (started by idle.ts through
// nsenter): starts a server that listens on 127.0.0.1 only, and measures how
// long after its listen() the capsule address accepts connections on the same
// port (envd's port forwarder at work). Prints {"latenciesMs": [...]} on stdout.
//
// --mode envd     the server is a command envd runs (Process.Start): the common case
// --mode outside  the server is started by this script, not by envd, after
//                 --gap-ms of quiet: what a daemon envd knows nothing about sees
// Each run first waits a random 0..--jitter-ms (default 1000).
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Process } from "@wrenn/protocol/envd/process";

const { values } = parseArgs({
  options: {
    envd: { type: "string", default: "http://127.0.0.1:49983" },
    forward: { type: "string" },
    mode: { type: "string", default: "envd" },
    runs: { type: "string", default: "5" },
    "gap-ms": { type: "string", default: "0" },
    "jitter-ms": { type: "string", default: "1000" },
    "first-port": { type: "string", default: "20000" },
  },
});
const forward = values.forward;
if (forward === undefined) throw new Error("--forward <address> is required");
const mode = values.mode;
if (mode !== "envd" && mode !== "outside") throw new Error("--mode must be envd or outside");
const runs = Number(values.runs);
const gapMs = Number(values["gap-ms"]);
const jitterMs = Number(values["jitter-ms"]);
const firstPort = Number(values["first-port"]);

/**
 * Listens on 127.0.0.1:PORT, prints the CLOCK_MONOTONIC time (ns) of the
 * listen, answers connections with "ok" and exits after 30 s at the latest.
 */
const SERVER_JS = `
const port = Number(process.argv[1]);
const s = require("node:net").createServer((c) => c.end("ok"));
s.listen(port, "127.0.0.1", () => process.stdout.write(process.hrtime.bigint() + "\\n"));
setTimeout(() => process.exit(0), 30000).unref();
process.on("SIGTERM", () => process.exit(0));
`;

const client = createClient(
  Process,
  createConnectTransport({ baseUrl: values.envd, httpVersion: "1.1", useBinaryFormat: true }),
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when a TCP connection to host:port succeeds, false when refused or failing. */
function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** CLOCK_MONOTONIC ns (the same clock the server prints) of the first successful connection. */
async function firstReachable(port: number, signal: AbortSignal): Promise<bigint> {
  for (;;) {
    if (signal.aborted) throw new Error(`port ${port} never became reachable on ${forward}`);
    if (forward !== undefined && (await tryConnect(forward, port))) return process.hrtime.bigint();
    await sleep(2);
  }
}

/** Starts the server through envd; resolves with its listen time and a stop function. */
async function serverViaEnvd(port: number): Promise<{ listenedAt: Promise<bigint>; stop: () => Promise<void> }> {
  const controller = new AbortController();
  const stream = client.start(
    { process: { cmd: process.execPath, args: ["-e", SERVER_JS, String(port)] }, stdin: false },
    { signal: controller.signal },
  );
  let pid = 0;
  const listenedAt = (async () => {
    for await (const res of stream) {
      const ev = res.event?.event;
      if (ev?.case === "start") pid = ev.value.pid;
      if (ev?.case === "data" && ev.value.output.case === "stdout") {
        return BigInt(new TextDecoder().decode(ev.value.output.value).trim());
      }
      if (ev?.case === "end") break;
    }
    throw new Error("the server ended before listening");
  })();
  const stop = async () => {
    if (pid !== 0) await client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: 15 });
    controller.abort();
  };
  return { listenedAt, stop };
}

/** Starts the server as this script's own child: envd does not know about it. */
function serverOutside(port: number): { listenedAt: Promise<bigint>; stop: () => Promise<void> } {
  const child = spawn(process.execPath, ["-e", SERVER_JS, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  const listenedAt = new Promise<bigint>((resolve, reject) => {
    child.stdout.once("data", (d: Buffer) => resolve(BigInt(d.toString().trim())));
    child.once("exit", () => reject(new Error("the server ended before listening")));
  });
  const stop = async () => {
    child.kill("SIGTERM");
  };
  return { listenedAt, stop };
}

const latenciesMs: number[] = [];
for (let i = 0; i < runs; i++) {
  // The random part keeps the runs from locking onto the forwarder's tick
  // (a run starts right after the previous one was forwarded, i.e. right after a tick).
  await sleep(gapMs + Math.random() * jitterMs);
  const port = firstPort + i;
  const reachable = firstReachable(port, AbortSignal.timeout(60_000));
  const server = mode === "envd" ? await serverViaEnvd(port) : serverOutside(port);
  try {
    const [listened, reached] = await Promise.all([server.listenedAt, reachable]);
    latenciesMs.push(Number(reached - listened) / 1e6);
  } finally {
    await server.stop();
  }
}
process.stdout.write(`${JSON.stringify({ latenciesMs })}\n`);
