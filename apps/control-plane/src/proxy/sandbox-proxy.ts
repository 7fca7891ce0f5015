import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream";
import type { Logger } from "@wrenn/kit";
import type { RequestInterceptor } from "../http/server-factory.js";
import { AgentProxyPorts, probeOverPool } from "./agent-proxy-port.js";
import { endToEndHeaders } from "./hop-headers.js";
import { ProxyTargetCache, type ProxyTargetLookup } from "./proxy-target-cache.js";
import { agentProxyPath, parseSandboxHost, type SandboxHostTarget, stripProxyPrefix } from "./sandbox-host.js";

/** Options of {@link SandboxProxy}. */
export interface SandboxProxyOptions {
  /** The proxy domain: requests for `{port}-{id}.{domain}` are proxied. */
  readonly domain: string;
  readonly lookup: ProxyTargetLookup;
  /** The host client pool's proxy agent and scheme (never the RPC agent). */
  readonly agent: () => { readonly agent: HttpAgent | HttpsAgent; readonly scheme: "http" | "https" };
  readonly log: Logger;
  /** How long a capsule's host address is cached. @default 120 s */
  readonly cacheTtlMs?: number;
  /** Where each agent serves its proxy. @default asked from each agent over {@link agent} */
  readonly proxyPorts?: AgentProxyPorts;
}

type Proxied = { target: SandboxHostTarget; address: string };

/**
 * The subdomain port proxy: `{port}-{capsuleId}.{domain}/path` → the
 * capsule's host agent `/proxy/{id}/{port}/path`, bodies streamed both ways,
 * redirects brought back under the capsule's host, WebSockets passed through.
 * Unauthenticated by design: the capsule URL is the capability (as in the
 * reference); capsules that are not running answer 409.
 */
export class SandboxProxy implements RequestInterceptor {
  readonly #options: SandboxProxyOptions;
  readonly cache: ProxyTargetCache;
  readonly proxyPorts: AgentProxyPorts;

  constructor(options: SandboxProxyOptions) {
    this.#options = options;
    this.cache = new ProxyTargetCache(options.lookup, options.cacheTtlMs ?? 120_000);
    this.proxyPorts = options.proxyPorts ?? new AgentProxyPorts({ probe: probeOverPool(options.agent) });
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const parsed = parseSandboxHost(req.headers.host, this.#options.domain);
    if (parsed === undefined) return false;
    if ("error" in parsed) {
      sendJson(res, 400, parsed.error === "bad_port" ? "invalid port in host name" : "invalid capsule id in host name");
      return true;
    }
    this.#resolve(parsed).then(
      (resolved) => {
        if ("status" in resolved) sendJson(res, resolved.status, resolved.message, resolved.code);
        else this.#forward(req, res, resolved);
      },
      (err: unknown) => {
        this.#options.log.error({ err, sandboxId: parsed.sandboxId }, "proxy target lookup failed");
        sendJson(res, 500, "internal server error", "internal_error");
      },
    );
    return true;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const parsed = parseSandboxHost(req.headers.host, this.#options.domain);
    if (parsed === undefined) return false;
    socket.on("error", () => socket.destroy());
    if ("error" in parsed) {
      rawError(socket, 400, "invalid capsule host name");
      return true;
    }
    this.#resolve(parsed).then(
      (resolved) => {
        if ("status" in resolved) rawError(socket, resolved.status, resolved.message);
        else this.#forwardUpgrade(req, socket, head, resolved);
      },
      () => rawError(socket, 500, "internal server error"),
    );
    return true;
  }

  async #resolve(target: SandboxHostTarget): Promise<Proxied | { status: number; code: string; message: string }> {
    const found = await this.cache.get(target.sandboxId);
    if (found.kind === "not_found") return { status: 404, code: "not_found", message: "capsule not found" };
    if (found.kind === "not_running") {
      return { status: 409, code: "invalid_state", message: `capsule is ${found.status}, not running` };
    }
    if (found.kind === "no_address") {
      return { status: 503, code: "host_unavailable", message: "the capsule's host has no address" };
    }
    // The agent's proxy thread when it has one: proxied bytes stay off its RPC event loop.
    return { target, address: await this.proxyPorts.proxyAddress(found.address) };
  }

  #upstream(req: IncomingMessage, p: Proxied, keepUpgrade: boolean) {
    const { agent, scheme } = this.#options.agent();
    const url = new URL(`${scheme}://${p.address}`);
    const headers = endToEndHeaders(req.headers, keepUpgrade);
    headers["x-forwarded-host"] = req.headers.host;
    headers["x-forwarded-proto"] = "http";
    const remote = req.socket.remoteAddress;
    if (remote !== undefined) headers["x-forwarded-for"] = remote;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const common = {
      host,
      port: url.port,
      method: req.method,
      path: agentProxyPath(p.target, req.url ?? "/"),
      headers,
      agent: keepUpgrade ? false : agent,
    };
    if (scheme === "http") return httpRequest(common);
    return httpsRequest({
      ...common,
      // The agent's certificate names the agent's address. Node would otherwise take the TLS
      // server name from the Host header — the capsule's `{port}-{id}.{domain}` — and refuse it.
      servername: isIP(host) ? "" : host,
      // An upgrade gets its own connection (agent: false): it needs the pool's client
      // certificate and CA itself.
      ...(keepUpgrade ? clientTls(agent as HttpsAgent) : {}),
    });
  }

  /** A request to the host failed: look the capsule and the agent's proxy port up again next time. */
  #forget(p: Proxied): void {
    const agentAddress = this.cache.peek(p.target.sandboxId);
    this.cache.evict(p.target.sandboxId);
    if (agentAddress !== undefined) this.proxyPorts.evict(agentAddress);
  }

  #forward(req: IncomingMessage, res: ServerResponse, p: Proxied): void {
    const up = this.#upstream(req, p, false);
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    up.on("response", (upRes) => {
      const headers = endToEndHeaders(upRes.headers);
      const location = upRes.headers.location;
      if (location !== undefined) headers["location"] = stripProxyPrefix(location, p.target);
      res.writeHead(upRes.statusCode ?? 502, headers);
      pipeline(upRes, res, () => undefined);
    });
    up.on("error", (err) => {
      this.#forget(p);
      this.#options.log.warn({ err, sandboxId: p.target.sandboxId }, "proxy request failed");
      if (!res.headersSent) sendJson(res, 502, "proxy error: the capsule's host did not answer", "proxy_error");
      else res.destroy();
    });
    pipeline(req, up, () => undefined);
  }

  #forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, p: Proxied): void {
    const up = this.#upstream(req, p, true);
    up.on("upgrade", (upRes, upSocket: Socket, upHead) => {
      const lines = [`HTTP/1.1 ${upRes.statusCode ?? 101} ${upRes.statusMessage ?? "Switching Protocols"}`];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2)
        lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (upHead.length > 0) socket.write(upHead);
      upSocket.on("error", () => socket.destroy());
      socket.on("close", () => upSocket.destroy());
      upSocket.on("close", () => socket.destroy());
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    up.on("response", (upRes) => {
      // The upstream refused the upgrade: relay its answer and close.
      rawError(socket, upRes.statusCode ?? 502, `upgrade refused (${upRes.statusCode})`);
      upRes.resume();
    });
    up.on("error", () => {
      this.#forget(p);
      rawError(socket, 502, "proxy error: the capsule's host did not answer");
    });
    if (head.length > 0) up.write(head);
    up.end();
  }
}

function sendJson(res: ServerResponse, status: number, message: string, code = "invalid_request"): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function rawError(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code: status === 404 ? "not_found" : "proxy_error", message } });
  socket.end(
    `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The client-certificate settings of the pool's HTTPS agent, for a connection made outside it. */
function clientTls(
  agent: HttpsAgent,
): Pick<HttpsAgent["options"], "ca" | "cert" | "key" | "minVersion" | "ALPNProtocols"> {
  const { ca, cert, key, minVersion, ALPNProtocols } = agent.options;
  return { ca, cert, key, minVersion, ALPNProtocols };
}
