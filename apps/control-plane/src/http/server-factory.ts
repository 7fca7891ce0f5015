import { createServer, type IncomingMessage, type Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import FindMyWay from "find-my-way";
import { SERVER_TIMEOUTS } from "./server-timeouts.js";

/** Takes over raw requests that are not the API's (e.g. `{port}-{id}.{domain}` hosts). */
export interface RequestInterceptor {
  /** Returns true when it took (and will answer) the request. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Returns true when it took the upgrade (and owns the socket). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/**
 * Builds the control plane's HTTP server and decides who gets each upgrade:
 * the interceptor first (sandbox proxy), then @fastify/websocket for the
 * registered WebSocket routes, and for every other path an ordinary HTTP
 * answer from the API (so a spoofed `Upgrade` header on a REST route meets the
 * route's own auth and gets e.g. 401 — seed fix 15 — and never a socket).
 */
export class ControlPlaneServer {
  readonly #wsRoutes = FindMyWay();
  readonly #intercept: RequestInterceptor | undefined;

  constructor(intercept: RequestInterceptor | undefined) {
    this.#intercept = intercept;
  }

  /** Records a WebSocket route pattern (Fastify syntax, e.g. `/v1/capsules/:id/pty`). */
  addWebSocketRoute(url: string): void {
    this.#wsRoutes.on("GET", url, () => undefined);
  }

  /** The `serverFactory` option for Fastify. */
  readonly factory = (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer((req, res) => {
      if (this.#intercept?.handleRequest(req, res)) return;
      handler(req, res);
    });
    server.headersTimeout = SERVER_TIMEOUTS.headersMs;
    server.keepAliveTimeout = SERVER_TIMEOUTS.idleMs;
    server.requestTimeout = 0;
    const emit = server.emit.bind(server);
    server.emit = ((event: string, ...args: unknown[]) => {
      if (event !== "upgrade") return emit(event, ...args);
      const [req, socket, head] = args as [IncomingMessage, Duplex, Buffer];
      if (this.#intercept?.handleUpgrade(req, socket, head)) return true;
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method === "GET" && this.#wsRoutes.find("GET", path) !== null) return emit(event, ...args);
      answerAsPlainHttp(req, socket, handler);
      return true;
    }) as typeof server.emit;
    return server;
  };
}

function answerAsPlainHttp(
  req: IncomingMessage,
  socket: Duplex,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  socket.on("error", () => socket.destroy());
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as import("node:net").Socket);
  res.on("finish", () => {
    res.detachSocket(socket as import("node:net").Socket);
    socket.end();
  });
  handler(req, res);
}
