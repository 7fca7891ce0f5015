import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import type { Logger } from "@wrenn/kit";
import { Filesystem } from "@wrenn/protocol/envd/filesystem";
import { Process } from "@wrenn/protocol/envd/process";
import { hasValidAccessToken } from "./auth.js";
import { ConnectionTracker } from "./conn/connection-tracker.js";
import type { EnvdEnv } from "./env.js";
import { EnvdState } from "./envd-state.js";
import { createFilesystemService } from "./filesystem/filesystem.service.js";
import { WatcherRegistry } from "./filesystem/watcher-registry.js";
import { handleFilesDownload, handleFilesUpload } from "./http/files.js";
import { handleInit } from "./http/init.js";
import { MetricsSampler } from "./http/metrics.js";
import { sendError, sendJson, sendNoContent } from "./http/respond.js";
import { PortForwarder } from "./ports/port-forwarder.js";
import { createProcessService } from "./process/process.service.js";
import { ProcessTable } from "./process/process-table.js";
import { createConnectHandler } from "./rpc/connect-handler.js";
import { UserDatabase } from "./users.js";

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
  readonly log: Logger;
}

/** A running envd instance. */
export interface Envd extends AsyncDisposable {
  readonly env: EnvdEnv;
  readonly server: Server;
  readonly tracker: ConnectionTracker;
  readonly forwarder: PortForwarder;
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
  const processes = new ProcessTable(options.log.child({ component: "process" }));
  const env: EnvdEnv = {
    version: options.version,
    state,
    users: new UserDatabase(options.etcDir),
    processes,
    log: options.log,
  };
  const tracker = new ConnectionTracker();
  const forwarder = new PortForwarder({
    bindAddress: options.forwardAddress,
    log: options.log.child({ component: "ports" }),
  });
  const metrics = new MetricsSampler();
  const watchers = new WatcherRegistry(options.log.child({ component: "watchers" }));

  const restoreAfterSnapshot = (req: IncomingMessage) => {
    const closed = tracker.restoreAfterSnapshot(req.socket);
    forwarder.start();
    options.log.info({ closed }, "restored after snapshot");
  };

  const connect = createConnectHandler({
    routes: (router: ConnectRouter) => {
      router.service(Process, createProcessService(env));
      router.service(Filesystem, createFilesystemService(env, watchers));
    },
    // No response compression: process output and file listings are mostly
    // produced once and read once on loopback or a VM link, where gzip costs
    // the sandbox CPU and gains nothing (the e2b SDK never asks for it).
    options: { jsonOptions: { ignoreUnknownFields: true }, readMaxBytes: 64 * 1024 * 1024, acceptCompression: [] },
    log: options.log.child({ component: "rpc" }),
  });

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
      await handleInit(env, { runDir: options.runDir, restoreAfterSnapshot }, req, res);
      return true;
    }
    if (path === "/envs" && method === "GET") {
      sendJson(res, 200, Object.fromEntries(state.envVars));
      return true;
    }
    if (path === "/metrics" && method === "GET") {
      sendJson(res, 200, await metrics.sample());
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
      if (method === "GET" || method === "HEAD") await handleFilesDownload(env, req, res);
      else if (method === "POST" || method === "PUT") await handleFilesUpload(env, req, res);
      else sendError(res, 405, "method not allowed");
      return true;
    }
    return false;
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
          if (!connect(req, res)) sendError(res, 404, "not found");
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
    forwarder,
    url,
    async [Symbol.asyncDispose]() {
      forwarder.stop();
      await processes[Symbol.asyncDispose]();
      watchers.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
