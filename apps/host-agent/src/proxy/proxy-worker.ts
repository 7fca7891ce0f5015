/**
 * Entry point of the agent's proxy thread (a `worker_threads` worker started by
 * {@link ProxyThread}): its own listener and {@link PortProxy} on its own event loop, so that
 * pumping proxied bytes (and their TLS) never delays the main loop's RPC streams (PTY, exec).
 * Capsule addresses come from the main thread, one message round trip per request.
 */
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import type { Logger } from "@wrenn/kit";
import { createHardenedServer, secureContextOptions } from "./hardened-server.js";
import { type GuestAddress, PortProxy } from "./port-proxy.js";
import { routeNotFound, sendProxyError, sendProxyErrorRaw } from "./proxy-errors.js";
import type { FromProxyThread, ProxyThreadData, ToProxyThread } from "./proxy-thread-protocol.js";

const port = parentPort;
if (port === null) throw new Error("proxy-worker.ts runs only as a worker thread");
const parent = port;
const data = workerData as ProxyThreadData;
const post = (m: FromProxyThread): void => parent.postMessage(m);

/** Forwards log entries to the main thread, whose logger owns the output. */
function threadLogger(bindings: Record<string, unknown>): Logger {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (fields: object, msg?: string): void =>
      post({ kind: "log", level, fields: { ...bindings, ...fields }, msg });
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => threadLogger({ ...bindings, ...more }),
  };
}

const pending = new Map<number, (guest: GuestAddress | undefined) => void>();
let seq = 0;
const proxy = new PortProxy({
  ...data.pool,
  log: threadLogger({ thread: "proxy" }),
  resolve: (sandboxId) =>
    new Promise((resolve) => {
      seq = (seq + 1) % Number.MAX_SAFE_INTEGER;
      pending.set(seq, resolve);
      post({ kind: "resolve", seq, sandboxId });
    }),
});

const server = createHardenedServer(
  data,
  (req, res) => {
    if (!proxy.handle(req, res)) sendProxyError(res, routeNotFound());
  },
  (req, socket, head) => {
    if (!proxy.handleUpgrade(req, socket, head)) sendProxyErrorRaw(socket, routeNotFound());
  },
);

parent.on("message", (m: ToProxyThread) => {
  switch (m.kind) {
    case "resolved": {
      const resolve = pending.get(m.seq);
      pending.delete(m.seq);
      resolve?.(m.guest);
      return;
    }
    case "evict":
      proxy.evict(m.sandboxId);
      return;
    case "tls":
      if ("setSecureContext" in server) server.setSecureContext(secureContextOptions(m.material));
      return;
    case "stop-accepting":
      server.close();
      server.closeIdleConnections();
      return;
    case "close":
      server.close();
      server.closeAllConnections();
      proxy.close();
      // The thread ends once its last socket is gone.
      parent.close();
      return;
  }
});

server.on("error", (err) => {
  // Only a failed listen lands here (EADDRINUSE, EACCES): the thread cannot serve.
  throw err;
});
server.listen(data.port, data.host, () => {
  post({ kind: "listening", port: (server.address() as AddressInfo).port });
});
