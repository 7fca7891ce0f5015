import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { PortProxy } from "./port-proxy.js";

/** The reference's server hardening (inventory §8 row 11). */
export const PROXY_SERVER_TIMEOUTS = {
  /** Slowloris guard: the whole header block must arrive within 10 s. */
  headersTimeout: 10_000,
  /** Idle keep-alive connections live longer than a typical 600 s upstream load balancer. */
  keepAliveTimeout: 620_000,
  /** No overall request deadline: WebSockets and downloads are long-lived. */
  requestTimeout: 0,
} as const;

/** Applies {@link PROXY_SERVER_TIMEOUTS} to an existing server (e.g. the agent's RPC server). */
export function applyProxyServerTimeouts(server: Server): void {
  server.headersTimeout = PROXY_SERVER_TIMEOUTS.headersTimeout;
  server.keepAliveTimeout = PROXY_SERVER_TIMEOUTS.keepAliveTimeout;
  server.requestTimeout = PROXY_SERVER_TIMEOUTS.requestTimeout;
}

/**
 * An HTTP/1.1 server that sends `/proxy/...` requests and upgrades to `proxy` and
 * everything else to `fallback` (404 JSON when absent).
 */
export function createProxyServer(
  proxy: PortProxy,
  fallback?: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer({ ...PROXY_SERVER_TIMEOUTS }, (req, res) => {
    if (proxy.handle(req, res)) return;
    if (fallback) return fallback(req, res);
    const body = JSON.stringify({ code: "not_found", reason: "route_not_found", message: "no such route" });
    res.writeHead(404, { "content-type": "application/json" });
    res.end(body);
  });
  server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
    if (!proxy.handleUpgrade(req, socket, head)) socket.destroy();
  });
  return server;
}
