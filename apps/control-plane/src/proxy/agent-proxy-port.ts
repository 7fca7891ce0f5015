/**
 * Which address the subdomain proxy sends a host's proxied traffic to. A host agent may serve
 * `/proxy/...` from a thread of its own on a second port, so that proxied bytes never run on
 * the event loop of its RPC streams (PTY keystrokes stayed 10–20× slower under a download
 * flood otherwise). The agent tells that port at `GET /proxy-listener` on its RPC address;
 * an agent without one (older, or started with the thread off) answers anything else, and its
 * RPC address keeps serving `/proxy/...`.
 */
import { type Agent as HttpAgent, request as httpRequest } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";

/** Where the agent says its proxy thread listens (kept in step with the host agent's `PROXY_LISTENER_PATH`). */
export const AGENT_PROXY_LISTENER_PATH = "/proxy-listener";

/** Asks the agent at `address` (`host:port`) for its proxy port; undefined when it has none. */
export type ProxyPortProbe = (address: string) => Promise<number | undefined>;

/** Options of {@link AgentProxyPorts}. */
export interface AgentProxyPortsOptions {
  readonly probe: ProxyPortProbe;
  /** How long an answer is kept per agent address. @default 60_000 */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Caches each agent's proxy address; one probe in flight per agent address. */
export class AgentProxyPorts {
  readonly #probe: ProxyPortProbe;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { address: Promise<string>; expires: number }>();

  constructor(o: AgentProxyPortsOptions) {
    this.#probe = o.probe;
    this.#ttlMs = o.ttlMs ?? 60_000;
    this.#now = o.now ?? Date.now;
  }

  /**
   * `host:proxyPort` for the agent at `address`, or `address` itself when the agent has no proxy
   * thread or could not be asked (a failed probe is not cached: the next request asks again).
   */
  proxyAddress(address: string): Promise<string> {
    const hit = this.#entries.get(address);
    if (hit !== undefined && hit.expires > this.#now()) return hit.address;
    const found = this.#probe(address).then(
      (port) => (port === undefined ? address : withPort(address, port)),
      () => {
        this.#entries.delete(address);
        return address;
      },
    );
    this.#entries.set(address, { address: found, expires: this.#now() + this.#ttlMs });
    return found;
  }

  /** Forgets the agent's answer (a proxied request to it failed: it may have restarted elsewhere). */
  evict(address: string): void {
    this.#entries.delete(address);
  }
}

/** `host:port` with the port replaced (IPv6 hosts stay in brackets). */
function withPort(address: string, port: number): string {
  return `${address.slice(0, address.lastIndexOf(":"))}:${port}`;
}

/**
 * A {@link ProxyPortProbe} over the pool's proxy agent (the control plane's client
 * certificate when agents speak mTLS). Any answer but `200 {"port": 1..65535}` means "none".
 */
export function probeOverPool(
  agent: () => { readonly agent: HttpAgent | HttpsAgent; readonly scheme: "http" | "https" },
  timeoutMs = 5000,
): ProxyPortProbe {
  return (address) =>
    new Promise((resolve, reject) => {
      const { agent: a, scheme } = agent();
      const url = new URL(`${scheme}://${address}`);
      const host = url.hostname.replace(/^\[|\]$/g, "");
      const common = { host, port: url.port, path: AGENT_PROXY_LISTENER_PATH, agent: a, timeout: timeoutMs };
      // The agent's certificate names its address, never a Host header (see sandbox-proxy.ts).
      const req =
        scheme === "http" ? httpRequest(common) : httpsRequest({ ...common, servername: isIP(host) ? "" : host });
      req.on("timeout", () => req.destroy(new Error("the agent did not answer in time")));
      req.on("error", reject);
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          if (body.length < 1024) body += d;
        });
        res.on("error", reject);
        res.on("end", () => resolve(res.statusCode === 200 ? portIn(body) : undefined));
      });
      req.end();
    });
}

function portIn(body: string): number | undefined {
  try {
    const port = (JSON.parse(body) as { port?: unknown }).port;
    return typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}
