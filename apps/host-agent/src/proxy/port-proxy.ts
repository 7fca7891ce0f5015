import { type IncomingMessage, type OutgoingHttpHeaders, request, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream";
import { type Logger, silentLogger } from "@wrenn/kit";
import { stripHopByHop, upstreamRequestHeaders } from "./hop-headers.js";
import { rewriteLocation } from "./location-rewrite.js";
import { DIAL_SIGNAL, ProxyAgent, type ProxyAgentOptions, type ProxyRequestArgs } from "./proxy-agent.js";
import {
  badPath,
  type ProxyErrorBody,
  sandboxPaused,
  sendProxyError,
  sendProxyErrorRaw,
  unknownSandbox,
  unreachable,
} from "./proxy-errors.js";
import { type ProxyTarget, parseProxyPath } from "./proxy-path.js";
import { forwardUpgrade } from "./ws-upgrade.js";

/** True when the request carries no body, so it can be replayed. */
function hasNoBody(req: IncomingMessage): boolean {
  const len = req.headers["content-length"];
  return req.headers["transfer-encoding"] === undefined && (len === undefined || len === "0");
}

function isStaleSocket(err: NodeJS.ErrnoException): boolean {
  return err.code === "ECONNRESET" || err.code === "EPIPE";
}

/** Where a sandbox's guest listens; `paused`: it exists but cannot answer now. */
export interface GuestAddress {
  readonly guestIp: string;
  readonly paused?: boolean;
}

/**
 * Where a sandbox's guest listens, or undefined when it is not here. The agent's own resolver
 * answers synchronously (one map lookup); the proxy thread's asks the agent's main thread and
 * answers with a promise.
 */
export type GuestResolver = (sandboxId: string) => GuestAddress | undefined | Promise<GuestAddress | undefined>;

type Located = { target: UpstreamTarget; upstreamPath: string } | { error: ProxyErrorBody };

/** A cached per sandbox+port+guest address forwarding target. */
export interface UpstreamTarget {
  readonly sandboxId: string;
  readonly port: number;
  readonly guestIp: string;
  /** `/proxy/{id}/{port}`. */
  readonly prefix: string;
  /** `guestIp:port`, what absolute upstream redirects are matched against. */
  readonly internalHost: string;
}

/** Options of {@link PortProxy}. */
export interface PortProxyOptions extends ProxyAgentOptions {
  readonly resolve: GuestResolver;
  readonly log?: Logger;
}

/**
 * Forwards `/proxy/{sandboxId}/{port}/...` to `http://{guestIp}:{port}/...` over its own
 * keep-alive pool, streaming bodies both ways with back-pressure and rewriting redirects
 * so the browser stays under the prefix. Plain requests go through {@link handle};
 * WebSocket upgrades through {@link handleUpgrade} (the server's 'upgrade' event).
 */
export class PortProxy {
  readonly agent: ProxyAgent;
  readonly #resolve: GuestResolver;
  readonly #log: Logger;
  // The guest address is part of the key so a sandbox resumed with a new address misses
  // its stale entry instead of forwarding to the old one.
  readonly #targets = new Map<string, UpstreamTarget>();
  readonly #evictListeners = new Set<(sandboxId: string) => void>();

  constructor(options: PortProxyOptions) {
    this.agent = new ProxyAgent(options);
    this.#resolve = options.resolve;
    this.#log = options.log ?? silentLogger;
  }

  /** Keys of the cached targets (`{id}/{port}/{guestIp}`), for tests and debugging. */
  cachedKeys(): string[] {
    return [...this.#targets.keys()];
  }

  /** Where the guest of `sandboxId` listens, as this proxy's resolver says. */
  guest(sandboxId: string): GuestAddress | undefined | Promise<GuestAddress | undefined> {
    return this.#resolve(sandboxId);
  }

  /** Calls `listener` on every {@link evict} (the proxy thread forgets the same targets). */
  onEvict(listener: (sandboxId: string) => void): () => void {
    this.#evictListeners.add(listener);
    return () => this.#evictListeners.delete(listener);
  }

  /** Forgets every target of a sandbox and drops its pooled sockets; call on destroy and pause. */
  evict(sandboxId: string): void {
    for (const listener of this.#evictListeners) listener(sandboxId);
    for (const [key, t] of this.#targets) {
      if (!key.startsWith(`${sandboxId}/`)) continue;
      this.#targets.delete(key);
      this.agent.dropIdle(t.guestIp, t.port);
    }
  }

  /** Closes the pool. */
  close(): void {
    this.agent.destroy();
    this.#targets.clear();
  }

  /**
   * Resolves a request URL to a target or to the error answer to send (synchronously when the
   * resolver is), or undefined when the URL is not under `/proxy/`.
   */
  #locate(url: string | undefined): Located | Promise<Located> | undefined {
    const parsed = parseProxyPath(url ?? "/");
    if (parsed.kind === "not-proxy") return undefined;
    if (parsed.kind === "invalid") return { error: badPath(parsed.message) };
    const p = parsed.target;
    const guest = this.#resolve(p.sandboxId);
    return guest instanceof Promise ? guest.then((g) => this.#located(p, g)) : this.#located(p, guest);
  }

  #located(p: ProxyTarget, guest: GuestAddress | undefined): Located {
    if (guest === undefined) return { error: unknownSandbox() };
    // A frozen guest would accept the connection and never answer: say so at once instead.
    if (guest.paused) return { error: sandboxPaused() };
    return { target: this.#cached(p, guest.guestIp), upstreamPath: p.upstreamPath };
  }

  #cached(p: ProxyTarget, guestIp: string): UpstreamTarget {
    const key = `${p.sandboxId}/${p.port}/${guestIp}`;
    let t = this.#targets.get(key);
    if (t === undefined) {
      t = { sandboxId: p.sandboxId, port: p.port, guestIp, prefix: p.prefix, internalHost: `${guestIp}:${p.port}` };
      this.#targets.set(key, t);
    }
    return t;
  }

  /**
   * Handles one request. Returns false (and writes nothing) when the URL is not under
   * `/proxy/`, so the caller can route it elsewhere.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const found = this.#locate(req.url);
    if (found === undefined) return false;
    if (!(found instanceof Promise)) {
      this.#forward(req, res, found);
      return true;
    }
    found.then(
      // The client may have left while the guest was looked up: then there is nothing to do.
      (located) => (res.destroyed ? undefined : this.#forward(req, res, located)),
      (err: unknown) => {
        this.#log.error({ err: String(err) }, "port proxy could not resolve a capsule");
        res.destroy();
      },
    );
    return true;
  }

  #forward(req: IncomingMessage, res: ServerResponse, found: Located): void {
    if ("error" in found) {
      sendProxyError(res, found.error);
      return;
    }
    const { target: t, upstreamPath } = found;
    const abort = new AbortController();
    // The client leaving (before or after the answer started) aborts the dial and the upstream leg.
    res.once("close", () => {
      if (!res.writableFinished) abort.abort(new Error("client went away"));
    });
    const options: ProxyRequestArgs = {
      agent: this.agent,
      host: t.guestIp,
      port: t.port,
      method: req.method,
      path: upstreamPath,
      headers: upstreamRequestHeaders(req.headers, {
        clientAddress: req.socket.remoteAddress,
        internalHost: t.internalHost,
      }),
      [DIAL_SIGNAL]: abort.signal,
    };
    // A keep-alive socket the guest server closed while it idled in the pool fails on
    // reuse; a bodiless request is then safely replayed once on a fresh socket.
    const bodiless = hasNoBody(req);
    const send = (replay: boolean): void => {
      const up = request(options);
      const onAbort = (): void => {
        up.destroy();
      };
      abort.signal.addEventListener("abort", onAbort, { once: true });
      up.on("response", (upRes) => {
        const headers: OutgoingHttpHeaders = stripHopByHop(upRes.headers);
        const loc = upRes.headers.location;
        if (loc !== undefined) headers.location = rewriteLocation(loc, t.prefix, t.internalHost);
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
        pipeline(upRes, res, (err) => {
          if (err) res.destroy();
        });
      });
      up.on("error", (err: NodeJS.ErrnoException) => {
        if (abort.signal.aborted) return;
        abort.signal.removeEventListener("abort", onAbort);
        if (replay && bodiless && up.reusedSocket && !res.headersSent && isStaleSocket(err)) {
          send(false);
          return;
        }
        this.#log.warn({ sandboxId: t.sandboxId, port: t.port, err: String(err) }, "port proxy upstream failed");
        sendProxyError(res, unreachable(t.port));
      });
      if (bodiless) {
        up.end();
        req.resume();
      } else {
        // pipe (not pipeline): an upstream failure must not destroy the client socket
        // before the 502 is written; pipe still applies back-pressure to the upload.
        req.pipe(up);
      }
    };
    send(true);
  }

  /** Handles an HTTP upgrade (WebSocket). Returns false when the URL is not under `/proxy/`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const found = this.#locate(req.url);
    if (found === undefined) return false;
    const go = (located: Located): void => {
      if ("error" in located) sendProxyErrorRaw(socket, located.error);
      else forwardUpgrade({ req, socket, head, ...located, agent: this.agent, log: this.#log });
    };
    if (!(found instanceof Promise)) {
      go(found);
      return true;
    }
    found.then(
      (located) => (socket.destroyed ? undefined : go(located)),
      (err: unknown) => {
        this.#log.error({ err: String(err) }, "port proxy could not resolve a capsule");
        socket.destroy();
      },
    );
    return true;
  }
}
