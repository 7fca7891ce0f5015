/**
 * The agent's one HTTP/1.1 server: `/proxy/{id}/{port}/...` (and its WebSocket upgrades) go to
 * the port proxy, `/files/download` and `/files/upload` to the plain-HTTP file transfers,
 * everything else to the hostagent.v1 Connect handler. HTTP/2 is never
 * offered (ALPN `http/1.1` only): heavy proxy traffic must not share flow control with PTY
 * and exec streams (inventory §8 rows 5 and 11).
 */
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import type { PortProxy } from "../proxy/port-proxy.js";

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

/** PEM material of the TLS server. Clients must present a certificate chaining to `ca` (mTLS). */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Options of {@link startAgentServer}. */
export interface AgentServerOptions {
  readonly host: string;
  readonly port: number;
  /** The Connect handler ({@link createRpcHandler}). */
  readonly rpc: (req: IncomingMessage, res: ServerResponse) => void;
  readonly proxy: PortProxy;
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
}

/** A listening agent server. */
export interface AgentServer {
  readonly server: Server | HttpsServer;
  /** `http(s)://host:port` as bound (port resolved when 0 was asked). */
  readonly url: string;
  /** Swaps certificate, key and CA for new connections (credential refresh); existing ones keep theirs. */
  setTls(material: TlsMaterial): void;
  /** Stops accepting and drops idle keep-alive connections; requests in flight go on. */
  stopAccepting(): void;
  /** Cuts every remaining connection; resolves once the server is closed. */
  closeAll(): Promise<void>;
}

function secureContextOptions(m: TlsMaterial) {
  return { cert: m.cert, key: m.key, ca: m.ca, minVersion: "TLSv1.3" as const };
}

/** Creates the server and resolves once it listens. */
export async function startAgentServer(o: AgentServerOptions): Promise<AgentServer> {
  const timeouts = {
    headersTimeout: o.headersTimeoutMs ?? 10_000,
    keepAliveTimeout: o.keepAliveTimeoutMs ?? 620_000,
    // No overall request deadline: WebSockets, PTYs and downloads are long-lived.
    requestTimeout: 0,
    // Node checks header deadlines on this period (default 30 s): make the 10 s real.
    connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs ?? 10_000),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (o.proxy.handle(req, res)) return;
    if (o.http?.(req, res)) return;
    o.rpc(req, res);
  };
  const server = o.tls
    ? createHttpsServer(
        {
          ...timeouts,
          ...secureContextOptions(o.tls),
          requestCert: true,
          rejectUnauthorized: true,
          ALPNProtocols: ["http/1.1"],
        },
        onRequest,
      )
    : createHttpServer(timeouts, onRequest);
  server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
    if (!o.proxy.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(o.port, o.host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([err]) => {
      throw err;
    }),
  ]);
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | undefined;
  return {
    server,
    url: `${o.tls ? "https" : "http"}://${host}:${addr.port}`,
    setTls(material) {
      if (!("setSecureContext" in server)) throw new Error("the agent serves plain HTTP: no TLS to swap");
      server.setSecureContext(secureContextOptions(material));
    },
    stopAccepting() {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
    },
    async closeAll() {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
