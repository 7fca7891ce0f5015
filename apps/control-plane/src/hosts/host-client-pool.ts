import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { AgentFiles } from "./host-client-pool-files.js";

/** A Connect client of one host agent's `hostagent.v1.HostAgentService`. */
export type HostAgentClient = Client<typeof HostAgentService>;

/** TLS material for talking to host agents (mTLS: the agent verifies our client certificate). */
export interface HostTls {
  /** PEM of the internal CA that signed the agents' server certificates. */
  readonly caPem: string;
  /** The control plane's client certificate and key (PEM); renewed over time. */
  readonly certPem: string;
  readonly keyPem: string;
}

/** Where a host agent listens. `address` is `host:port` as the agent registered it. */
export interface HostAddress {
  readonly id: string;
  readonly address: string;
}

/** Options of {@link HostClientPool}. */
export interface HostClientPoolOptions {
  /** Current TLS material, or undefined for plain HTTP (local development agents on loopback). */
  readonly tls: () => HostTls | undefined;
  /** Idle keep-alive sockets kept per agent, per transport. @default 20 */
  readonly maxIdlePerHost?: number;
}

/**
 * One Connect client per host agent, over HTTP/1.1 (never HTTP/2: one slow
 * stream must not hold others behind flow control), plus a **separate** agent
 * for the sandbox port proxy — seed fix 5: heavy user traffic through the proxy
 * (Jupyter, file servers) must never queue PTY or exec RPCs behind it. No
 * overall response-header deadline: unary calls carry their own per-call
 * timeouts (a 45 s header timeout broke long execs and pauses in the reference).
 */
export class HostClientPool implements AsyncDisposable {
  readonly #options: HostClientPoolOptions;
  readonly #clients = new Map<string, { address: string; client: HostAgentClient }>();
  #rpcAgent: HttpAgent | HttpsAgent;
  #proxyAgent: HttpAgent | HttpsAgent;
  #tlsInUse: HostTls | undefined;

  constructor(options: HostClientPoolOptions) {
    this.#options = options;
    this.#tlsInUse = options.tls();
    this.#rpcAgent = this.#newAgent(this.#tlsInUse);
    this.#proxyAgent = this.#newAgent(this.#tlsInUse);
  }

  /** The scheme agents are reached with. */
  get scheme(): "http" | "https" {
    return this.#tlsInUse ? "https" : "http";
  }

  /** The RPC client of a host, created on first use and rebuilt when its address changes. */
  client(host: HostAddress): HostAgentClient {
    this.#refreshTls();
    const cached = this.#clients.get(host.id);
    if (cached && cached.address === host.address) return cached.client;
    const transport = createConnectTransport({
      baseUrl: `${this.scheme}://${host.address}`,
      httpVersion: "1.1",
      useBinaryFormat: true,
      // No gzip: agents sit on the same host or LAN, where compressing every
      // 64 KiB file chunk costs far more CPU than the bytes it saves (measured:
      // it capped downloads near 70 MiB/s).
      acceptCompression: [],
      nodeOptions: { agent: this.#rpcAgent },
    });
    const client = createClient(HostAgentService, transport);
    this.#clients.set(host.id, { address: host.address, client });
    return client;
  }

  /** Plain-HTTP file downloads from a host's agent, on the same keep-alive sockets and TLS as its RPCs. */
  files(host: HostAddress): AgentFiles {
    this.#refreshTls();
    return new AgentFiles(`${this.scheme}://${host.address}`, this.#rpcAgent);
  }

  /** The keep-alive agent for proxied user traffic (never shared with RPC). */
  proxyAgent(): HttpAgent | HttpsAgent {
    this.#refreshTls();
    return this.#proxyAgent;
  }

  /** Forgets a host's client (host deleted or its address changed). */
  evict(hostId: string): void {
    this.#clients.delete(hostId);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#clients.clear();
    this.#rpcAgent.destroy();
    this.#proxyAgent.destroy();
  }

  #refreshTls(): void {
    const tls = this.#options.tls();
    if (tls === this.#tlsInUse) return;
    // New client certificate (renewal): new agents, so new connections present it.
    const oldRpc = this.#rpcAgent;
    const oldProxy = this.#proxyAgent;
    this.#tlsInUse = tls;
    this.#rpcAgent = this.#newAgent(tls);
    this.#proxyAgent = this.#newAgent(tls);
    this.#clients.clear();
    // Sockets in use finish their requests; idle ones close now.
    setTimeout(() => {
      oldRpc.destroy();
      oldProxy.destroy();
    }, 60_000).unref();
  }

  #newAgent(tls: HostTls | undefined): HttpAgent | HttpsAgent {
    const common = {
      keepAlive: true,
      keepAliveMsecs: 30_000,
      maxFreeSockets: this.#options.maxIdlePerHost ?? 20,
      timeout: 0,
      scheduling: "lifo" as const,
    };
    if (tls === undefined) return new HttpAgent(common);
    return new HttpsAgent({
      ...common,
      ca: tls.caPem,
      cert: tls.certPem,
      key: tls.keyPem,
      minVersion: "TLSv1.3",
      ALPNProtocols: ["http/1.1"],
    });
  }
}
