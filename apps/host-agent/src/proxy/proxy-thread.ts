/**
 * The main thread's handle on the agent's proxy thread: a `worker_threads` worker serving
 * `/proxy/{sandboxId}/{port}/...` on its own port with its own event loop (`proxy-worker.ts`).
 *
 * Why a thread: measured on 2 vCPUs, a download flood through a `/proxy` served by the agent's
 * one event loop kept that loop runnable all the time, so a PTY keystroke echo waited behind
 * the proxy's body chunks and behind the scheduler (7–29× slower); the same flood straight to
 * the guest left it nearly unchanged. In its own thread the byte pumping runs beside the RPC
 * streams, and the main thread, idle between events, gets the CPU as soon as it wakes.
 * Sockets cannot move between threads, hence a port of its own.
 */
import { Worker } from "node:worker_threads";
import { type Logger, silentLogger } from "@wrenn/kit";
import type { TlsMaterial } from "./hardened-server.js";
import type { GuestResolver } from "./port-proxy.js";
import type { FromProxyThread, ProxyThreadData, ToProxyThread } from "./proxy-thread-protocol.js";

/** Options of {@link startProxyThread}. */
export interface ProxyThreadOptions extends Omit<ProxyThreadData, "port"> {
  /** Port to listen on; 0 picks a free one (kept across restarts of the thread). */
  readonly port: number;
  /** Where capsules' guests listen; called on the main thread for every proxied request. */
  readonly resolve: GuestResolver;
  readonly log?: Logger;
  /** First delay before a crashed thread is started again; doubles up to 30 s. @default 1000 */
  readonly restartDelayMs?: number;
}

/** A running proxy thread. */
export interface ProxyThread {
  /** The port it listens on (resolved when 0 was asked). */
  readonly port: number;
  /** Forgets the capsule's targets and pooled sockets in the thread (destroy, pause). */
  evict(sandboxId: string): void;
  /** New certificate, key and CA for new connections (credential refresh). */
  setTls(material: TlsMaterial): void;
  /** Stops accepting and drops idle connections; requests in flight go on. */
  stopAccepting(): void;
  /** Cuts every connection and ends the thread. */
  close(): Promise<void>;
}

// Built, this module is JavaScript and the thread starts from proxy-worker.js. Under tsx
// (tests, benchmarks) it is TypeScript source, and tsx's `--import` hooks do not reach a
// worker's entry module on Node 20: the thread registers tsx itself, then imports the source.
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(`./proxy-worker${FROM_SOURCE ? ".ts" : ".js"}`, import.meta.url);

/** Starts the proxy worker with `data`; what {@link startProxyThread} uses unless told otherwise. */
export function newProxyWorker(data: ProxyThreadData): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData: data });
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(WORKER_URL.href);
  const boot = `import(${tsx}).then((t) => { t.register(); return import(${entry}); })`;
  return new Worker(boot, { eval: true, workerData: data, execArgv: [] });
}

/**
 * Starts the thread and resolves once it listens; rejects when it cannot listen. `spawnWorker`
 * makes each worker (the first and every restart; tests wrap it to reach the workers).
 */
export async function startProxyThread(
  o: ProxyThreadOptions,
  spawnWorker: (data: ProxyThreadData) => Worker = newProxyWorker,
): Promise<ProxyThread> {
  const log = o.log ?? silentLogger;
  let data: ProxyThreadData = {
    host: o.host,
    port: o.port,
    tls: o.tls,
    headersTimeoutMs: o.headersTimeoutMs,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs,
    pool: o.pool,
  };
  let closing = false;
  let restartDelay = o.restartDelayMs ?? 1000;
  let restartTimer: NodeJS.Timeout | undefined;

  let gone: Promise<void> = Promise.resolve();
  const spawn = (): { worker: Worker; listening: Promise<number> } => {
    const w = spawnWorker(data);
    gone = new Promise<void>((resolve) => w.once("exit", () => resolve()));
    const send = (m: ToProxyThread): void => w.postMessage(m);
    let onListening: (port: number) => void = () => {};
    const listening = new Promise<number>((resolve, reject) => {
      onListening = resolve;
      w.once("error", reject);
      w.once("exit", (code) => reject(new Error(`the proxy thread exited (${code}) before it listened`)));
    });
    w.on("message", (m: FromProxyThread) => {
      if (m.kind === "listening") onListening(m.port);
      else if (m.kind === "resolve") answer(send, m.seq, m.sandboxId);
      else if (m.kind === "log") log[m.level](m.fields, m.msg);
    });
    w.on("error", (err) => log.error({ err: String(err) }, "proxy thread failed"));
    w.on("exit", (code) => {
      if (closing || w !== worker) return;
      log.error({ code, restartInMs: restartDelay }, "proxy thread ended; starting it again");
      restartTimer = setTimeout(restart, restartDelay);
      restartDelay = Math.min(30_000, restartDelay * 2);
    });
    return { worker: w, listening };
  };

  const answer = (send: (m: ToProxyThread) => void, seq: number, sandboxId: string): void => {
    const reply = (guest: Awaited<ReturnType<GuestResolver>>): void => send({ kind: "resolved", seq, guest });
    try {
      const guest = o.resolve(sandboxId);
      if (guest instanceof Promise) guest.then(reply, () => reply(undefined));
      else reply(guest);
    } catch {
      reply(undefined);
    }
  };

  const restart = (): void => {
    restartTimer = undefined;
    if (closing) return;
    const next = spawn();
    worker = next.worker;
    next.listening.then(
      () => {
        restartDelay = o.restartDelayMs ?? 1000;
      },
      (err: unknown) => log.error({ err: String(err) }, "proxy thread could not listen"),
    );
  };

  const first = spawn();
  let worker = first.worker;
  let port: number;
  try {
    port = await first.listening;
  } catch (err) {
    closing = true;
    await gone;
    throw err;
  }
  // Later restarts keep the port the first thread got, so clients that learned it stay right.
  data = { ...data, port };
  return {
    port,
    evict(sandboxId) {
      worker.postMessage({ kind: "evict", sandboxId } satisfies ToProxyThread);
    },
    setTls(material) {
      data = { ...data, tls: material };
      worker.postMessage({ kind: "tls", material } satisfies ToProxyThread);
    },
    stopAccepting() {
      worker.postMessage({ kind: "stop-accepting" } satisfies ToProxyThread);
    },
    async close() {
      if (closing) return;
      closing = true;
      clearTimeout(restartTimer);
      worker.postMessage({ kind: "close" } satisfies ToProxyThread);
      // A thread stuck in a tight loop would never read the message: end it after a while.
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
