/**
 * The agent's HTTP/1.1 server: `/proxy/{id}/{port}/...` (and its WebSocket upgrades) go to
 * the port proxy, `/files/download` and `/files/upload` to the plain-HTTP file transfers,
 * everything else to the hostagent.v1 Connect handler. HTTP/2 is never
 * offered (ALPN `http/1.1` only): heavy proxy traffic must not share flow control with PTY
 * and exec streams (inventory §8 rows 5 and 11). With `proxyPort`, a second listener in a
 * worker thread serves `/proxy/...` off the RPC event loop (see `proxy/proxy-thread.ts`);
 * the control plane learns its port from {@link PROXY_LISTENER_PATH}.
 */
import { once } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "@wrenn/kit";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { createHardenedServer, secureContextOptions, type TlsMaterial } from "../proxy/hardened-server.js";
import type { PortProxy } from "../proxy/port-proxy.js";
import { startProxyThread } from "../proxy/proxy-thread.js";

/**
 * The hostagent.v1 Connect handler for {@link AgentServerOptions.rpc}. Responses are never
 * compressed, even for a client that offers gzip: the control plane sits on the same host or
 * LAN, where gzipping every 64 KiB ReadFileStream chunk (and gunzipping it on the other side)
 * cost more CPU than the transfer itself — measured, it held API downloads near 70 MiB/s.
 * Compressed requests are still understood.
 */
export function createRpcHandler(
  service: Partial<ServiceImpl<typeof HostAgentService>>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return connectNodeAdapter({
    routes: (r) => r.service(HostAgentService, service),
    compressMinBytes: Number.MAX_SAFE_INTEGER,
  });
}

export type { TlsMaterial };

/**
 * Where the agent says on which port its proxy thread listens: `GET` answers
 * `{"port": n}`, or 404 when there is no proxy thread (the control plane then proxies
 * through `/proxy/...` on this port).
 */
export const PROXY_LISTENER_PATH = "/proxy-listener";

/** Options of {@link startAgentServer}. */
export interface AgentServerOptions {
  readonly host: string;
  readonly port: number;
  /** The Connect handler ({@link createRpcHandler}). */
  readonly rpc: (req: IncomingMessage, res: ServerResponse) => void;
  /** Serves `/proxy/...` on this port, and resolves capsules for the proxy thread. */
  readonly proxy: PortProxy;
  /**
   * Also serve `/proxy/...` from a worker thread listening on this port of `host` (0: any
   * free port), with the same TLS, so proxied bytes never run on the RPC event loop.
   * @default none (the proxy is served on the main port only)
   */
  readonly proxyPort?: number;
  /**
   * Plain-HTTP endpoints next to the RPCs (file download and upload): returns true when it took the
   * request. Tried after the proxy, before RPC. @default none
   */
  readonly http?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** TLS 1.3 with required client certificates; absent: plain HTTP. */
  readonly tls?: TlsMaterial;
  /** The whole header block must arrive within this (slowloris guard). @default 10_000 */
  readonly headersTimeoutMs?: number;
  /** Idle keep-alive connections live this long (> a typical 600 s load balancer). @default 620_000 */
  readonly keepAliveTimeoutMs?: number;
  /** Receives the proxy thread's log entries. @default silent */
  readonly log?: Logger;
}

/** A listening agent server. */
export interface AgentServer {
  readonly server: Server | HttpsServer;
  /** `http(s)://host:port` as bound (port resolved when 0 was asked). */
  readonly url: string;
  /** `http(s)://host:port` of the proxy thread, when {@link AgentServerOptions.proxyPort} was given. */
  readonly proxyUrl: string | undefined;
  /** Swaps certificate, key and CA for new connections (credential refresh); existing ones keep theirs. */
  setTls(material: TlsMaterial): void;
  /** Stops accepting and drops idle keep-alive connections; requests in flight go on. */
  stopAccepting(): void;
  /** Cuts every remaining connection; resolves once the server is closed. */
  closeAll(): Promise<void>;
}

/** Creates the server (and the proxy thread) and resolves once both listen. */
export async function startAgentServer(o: AgentServerOptions): Promise<AgentServer> {
  const thread =
    o.proxyPort === undefined
      ? undefined
      : await startProxyThread({
          host: o.host,
          port: o.proxyPort,
          tls: o.tls,
          headersTimeoutMs: o.headersTimeoutMs,
          keepAliveTimeoutMs: o.keepAliveTimeoutMs,
          resolve: (id) => o.proxy.guest(id),
          ...(o.log ? { log: o.log } : {}),
        });
  const stopEvicting = thread ? o.proxy.onEvict((id) => thread.evict(id)) : () => true;
  const listener = JSON.stringify({ port: thread?.port });
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === PROXY_LISTENER_PATH && req.method === "GET") {
      res.writeHead(thread ? 200 : 404, { "content-type": "application/json" });
      res.end(thread ? listener : JSON.stringify({ code: "not_found", reason: "no_proxy_listener" }));
      return;
    }
    if (o.proxy.handle(req, res)) return;
    if (o.http?.(req, res)) return;
    o.rpc(req, res);
  };
  const server = createHardenedServer(o, onRequest, (req, socket, head) => {
    if (!o.proxy.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(o.port, o.host);
  try {
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([err]) => {
        throw err;
      }),
    ]);
  } catch (err) {
    stopEvicting();
    await thread?.close();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const scheme = o.tls ? "https" : "http";
  let closed: Promise<void> | undefined;
  const closeServer = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
    return closed;
  };
  return {
    server,
    url: `${scheme}://${host}:${addr.port}`,
    proxyUrl: thread ? `${scheme}://${host}:${thread.port}` : undefined,
    setTls(material) {
      if (!("setSecureContext" in server)) throw new Error("the agent serves plain HTTP: no TLS to swap");
      server.setSecureContext(secureContextOptions(material));
      thread?.setTls(material);
    },
    stopAccepting() {
      void closeServer();
      server.closeIdleConnections();
      thread?.stopAccepting();
    },
    async closeAll() {
      const done = closeServer();
      server.closeAllConnections();
      stopEvicting();
      await Promise.all([done, thread?.close()]);
    },
  };
}
