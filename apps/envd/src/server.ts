import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@wrenn/kit";
import { hasValidAccessToken } from "./auth.js";
import { ConnectionTracker } from "./conn/connection-tracker.js";
import type { EnvdEnv } from "./env.js";
import { EnvdState } from "./envd-state.js";
import { sendError, sendJson, sendNoContent } from "./http/respond.js";
import { LazyPortForwarder } from "./ports/lazy-forwarder.js";
import type { ScanPacing } from "./ports/scan-pacer.js";
import { ProcessTable } from "./process/process-table.js";
import type { EnvdServices } from "./rpc/services.js";
import { UserDatabase } from "./users.js";

// Startup cost: everything below `/health` (Connect and the protobuf
// descriptors, the services, /files with busboy and zlib, /init, /metrics,
// the port forwarder) is imported on first use, so envd answers /health
// after compiling and running only this module's small import graph. See
// docs/decisions/0002-envd-startup-and-memory.md for the measurements.

/** How to run envd; built by `parseArgs` in main.ts or by tests. */
export interface EnvdOptions {
  /** TCP port. @default 49983 (0 picks a free port, for tests). */
  readonly port: number;
  /** Listen address. @default "0.0.0.0" */
  readonly host: string;
  /** Version reported by /health (and to the e2b SDK). */
  readonly version: string;
  /** Where sandbox identity files are written. @default "/run/wrenn" */
  readonly runDir: string;
  /** User for requests that name none until /init sets one. @default "root" */
  readonly defaultUser: string;
  /** Directory holding passwd and group. @default "/etc" */
  readonly etcDir: string;
  /**
   * Address the port forwarder binds to make localhost-only services
   * reachable from outside the capsule; undefined disables forwarding.
   */
  readonly forwardAddress: string | undefined;
  /** Port forwarder timing (tests shorten it). @default DEFAULT_SCAN_PACING */
  readonly portScanPacing?: Partial<ScanPacing>;
  readonly log: Logger;
}

/** A running envd instance. */
export interface Envd extends AsyncDisposable {
  readonly env: EnvdEnv;
  readonly server: Server;
  readonly tracker: ConnectionTracker;
  /** The port forwarder (diagnostics and tests; loaded on its first start). */
  readonly ports: LazyPortForwarder;
  /** Base URL once listening, e.g. http://127.0.0.1:49983 */
  readonly url: string;
}

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "*",
  "access-control-expose-headers": "*",
  "access-control-max-age": "7200",
};

/** Builds and starts envd: one HTTP/1.1 server for the plain routes and Connect. */
export async function startEnvd(options: EnvdOptions): Promise<Envd> {
  const state = new EnvdState(options.defaultUser);
  const forwarder = new LazyPortForwarder({
    bindAddress: options.forwardAddress,
    log: options.log.child({ component: "ports" }),
    pacing: options.portScanPacing,
  });
  // A command often starts a server: look for new listeners at once.
  const processes = new ProcessTable(options.log.child({ component: "process" }), {
    onStarted: () => forwarder.kick(),
  });
  const env: EnvdEnv = {
    version: options.version,
    state,
    users: new UserDatabase(options.etcDir),
    processes,
    log: options.log,
  };
  const tracker = new ConnectionTracker();

  let services: Promise<EnvdServices> | undefined;
  const loadServices = () => {
    services ??= import("./rpc/services.js").then((m) => m.createEnvdServices(env));
    return services;
  };
  let metrics: Promise<{ sample(): Promise<unknown> }> | undefined;
  const loadMetrics = () => {
    metrics ??= import("./http/metrics.js").then((m) => new m.MetricsSampler());
    return metrics;
  };

  const restoreAfterSnapshot = (req: IncomingMessage) => {
    const closed = tracker.restoreAfterSnapshot(req.socket);
    forwarder.start();
    options.log.info({ closed }, "restored after snapshot");
  };

  const plain = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const method = req.method ?? "GET";
    if (path === "/health" && (method === "GET" || method === "HEAD")) {
      if (state.needsRestore) {
        state.needsRestore = false;
        restoreAfterSnapshot(req);
      }
      sendJson(res, 200, { version: env.version });
      return true;
    }
    if (!hasValidAccessToken(req.headers, state) && path !== "/files") {
      sendError(res, 401, "missing or invalid access token");
      return true;
    }
    if (path === "/init" && method === "POST") {
      const { handleInit } = await import("./http/init.js");
      await handleInit(env, { runDir: options.runDir, restoreAfterSnapshot }, req, res);
      // /init means the capsule is about to be used: load the Connect services
      // now, in the gap before the first RPC, instead of inside it.
      setImmediate(() => loadServices().catch(() => {}));
      return true;
    }
    if (path === "/envs" && method === "GET") {
      sendJson(res, 200, Object.fromEntries(state.envVars));
      return true;
    }
    if (path === "/metrics" && method === "GET") {
      sendJson(res, 200, await (await loadMetrics()).sample());
      return true;
    }
    if (path === "/snapshot/prepare" && method === "POST") {
      forwarder.stop();
      const closed = tracker.prepareForSnapshot();
      state.needsRestore = true;
      options.log.info({ closed }, "prepared for snapshot");
      sendNoContent(res);
      return true;
    }
    if (path === "/files") {
      const files = await import("./http/files.js");
      if (method === "GET" || method === "HEAD") await files.handleFilesDownload(env, req, res);
      else if (method === "POST" || method === "PUT") await files.handleFilesUpload(env, req, res);
      else sendError(res, 405, "method not allowed");
      return true;
    }
    return false;
  };

  /** Connect RPCs; false when the path names none (a 404). */
  const rpc = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (!isRpcPath(path)) return false;
    return (await loadServices()).handle(req, res);
  };

  const server = createServer(
    {
      // Long-lived streams (process output, uploads) must not be cut off.
      requestTimeout: 0,
      headersTimeout: 10_000,
      keepAliveTimeout: 620_000,
      maxHeaderSize: 32 * 1024,
    },
    (req, res) => {
      tracker.onRequest(req.socket, res);
      for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
      if (req.method === "OPTIONS") {
        res.writeHead(204);
        res.end();
        return;
      }
      const path = pathOf(req.url);
      plain(req, res, path)
        .then((handled) => {
          if (handled) return;
          if (!hasValidAccessToken(req.headers, state)) {
            sendJson(res, 401, { code: "unauthenticated", message: "missing or invalid access token" });
            return;
          }
          return rpc(req, res, path).then((served) => {
            if (!served) sendError(res, 404, "not found");
          });
        })
        .catch((err: unknown) => {
          options.log.error({ err, path }, "request failed");
          sendError(res, 500, "internal error");
        });
    },
  );
  tracker.attach(server);
  server.on("clientError", (err, socket) => {
    // Malformed or oversized requests: answer if possible, never crash.
    const code = (err as NodeJS.ErrnoException).code;
    const status = code === "HPE_HEADER_OVERFLOW" ? 431 : code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const reason =
      status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  forwarder.start();
  const address = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  const url = `http://${host}:${address.port}`;
  options.log.info({ url, version: env.version }, "envd listening");

  return {
    env,
    server,
    tracker,
    ports: forwarder,
    url,
    async [Symbol.asyncDispose]() {
      await forwarder.settled();
      forwarder.stop();
      await processes[Symbol.asyncDispose]();
      if (services) (await services).close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** True for the URL paths of envd's Connect services (`/process.Process/Start`...). */
function isRpcPath(path: string): boolean {
  return path.startsWith("/process.Process/") || path.startsWith("/filesystem.Filesystem/");
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
