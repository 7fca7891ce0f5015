/**
 * The HTTP/1.1 listener every agent port uses (the RPC port and the proxy thread's port):
 * the reference's hardening (inventory §8 row 11) and, when TLS material is given,
 * TLS 1.3 with required client certificates (mTLS) and ALPN `http/1.1` only. Heavy proxy
 * traffic must not share HTTP/2 flow control with PTY and exec streams.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";

/** PEM material of the TLS server. Clients must present a certificate chaining to `ca` (mTLS). */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Options of {@link createHardenedServer}. */
export interface HardenedServerOptions {
  /** TLS 1.3 with required client certificates; absent: plain HTTP. */
  readonly tls?: TlsMaterial | undefined;
  /** The whole header block must arrive within this (slowloris guard). @default 10_000 */
  readonly headersTimeoutMs?: number | undefined;
  /** Idle keep-alive connections live this long (> a typical 600 s load balancer). @default 620_000 */
  readonly keepAliveTimeoutMs?: number | undefined;
}

/** The options `setSecureContext` and `createServer` take for `m`. */
export function secureContextOptions(m: TlsMaterial) {
  return { cert: m.cert, key: m.key, ca: m.ca, minVersion: "TLSv1.3" as const };
}

/**
 * Creates (does not start) the server. `onUpgrade` gets every HTTP upgrade; a request it
 * does not take must be answered or destroyed by it.
 */
export function createHardenedServer(
  o: HardenedServerOptions,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Server | HttpsServer {
  const headersTimeout = o.headersTimeoutMs ?? 10_000;
  const timeouts = {
    headersTimeout,
    keepAliveTimeout: o.keepAliveTimeoutMs ?? 620_000,
    // No overall request deadline: WebSockets, PTYs and downloads are long-lived.
    requestTimeout: 0,
    // Node checks header deadlines on this period (default 30 s): make the 10 s real.
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
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
  server.on("upgrade", onUpgrade);
  return server;
}
