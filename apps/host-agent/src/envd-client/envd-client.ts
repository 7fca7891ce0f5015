import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { sleep } from "@wrenn/kit";
import { Filesystem } from "@wrenn/protocol/envd/filesystem";
import { Process } from "@wrenn/protocol/envd/process";
import { EnvdAgents, type EnvdPoolOptions } from "./envd-agents.js";
import { envdRequest, readText } from "./envd-http.js";

/** Overall deadline of a short envd call (reference: 2 min). */
export const ENVD_SHORT_CALL_TIMEOUT_MS = 120_000;

/** Options of {@link EnvdClient}. */
export interface EnvdClientOptions extends EnvdPoolOptions {
  /** `http://{guestIp}:49983`. */
  readonly baseUrl: string;
  /** envd access token, sent as `X-Access-Token` when set. */
  readonly accessToken?: string;
  /** Overall deadline of short calls; tests shorten it. */
  readonly timeoutMs?: number;
}

/** Thrown for a non-2xx envd answer to a plain HTTP call. */
export class EnvdHttpError extends Error {
  override name = "EnvdHttpError";
  constructor(
    readonly status: number,
    readonly path: string,
    readonly body: string,
  ) {
    super(`envd ${path} answered ${status}`);
  }
}

/**
 * Host-side client of one capsule's envd. Two pools: short calls (health, init, metrics,
 * snapshot prepare, filesystem RPCs) carry an overall deadline; process RPCs and file
 * transfers use the streaming pool with none, so a long `exec` or a big upload is never
 * cut at two minutes. Connect runs over HTTP/1.1 in the binary format without
 * compression, like the reference.
 */
export class EnvdClient {
  readonly agents: EnvdAgents;
  /** Connect transports, for service clients beyond the two below. */
  readonly transports: { readonly timeout: Transport; readonly streaming: Transport };
  /** Filesystem service on the timeout pool. */
  readonly filesystem: Client<typeof Filesystem>;
  /** Process service on the streaming pool (start/connect/streamInput are long-lived). */
  readonly process: Client<typeof Process>;
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: EnvdClientOptions) {
    this.agents = new EnvdAgents(options);
    this.#base = new URL(options.baseUrl);
    this.#token = options.accessToken;
    this.#timeoutMs = options.timeoutMs ?? ENVD_SHORT_CALL_TIMEOUT_MS;
    const token = this.#token;
    const auth: Interceptor = (next) => async (req) => {
      if (token !== undefined) req.header.set("x-access-token", token);
      return next(req);
    };
    const common = {
      baseUrl: options.baseUrl,
      httpVersion: "1.1" as const,
      useBinaryFormat: true,
      acceptCompression: [],
      interceptors: [auth],
    };
    this.transports = {
      timeout: createConnectTransport({
        ...common,
        defaultTimeoutMs: this.#timeoutMs,
        nodeOptions: { agent: this.agents.timeout },
      }),
      streaming: createConnectTransport({ ...common, nodeOptions: { agent: this.agents.streaming } }),
    };
    this.filesystem = createClient(Filesystem, this.transports.timeout);
    this.process = createClient(Process, this.transports.streaming);
  }

  /** Signal that fires at the short-call deadline or when `signal` aborts. */
  #deadline(signal?: AbortSignal): AbortSignal {
    const t = AbortSignal.timeout(this.#timeoutMs);
    return signal ? AbortSignal.any([t, signal]) : t;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.#token === undefined ? extra : { ...extra, "x-access-token": this.#token };
  }

  async #short(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<string> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const res = await envdRequest({
      agent: this.agents.timeout,
      url: new URL(path, this.#base),
      method,
      headers: this.#headers(payload ? { "content-type": "application/json" } : {}),
      ...(payload ? { body: payload } : {}),
      signal: this.#deadline(signal),
    });
    const text = await readText(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new EnvdHttpError(status, path, text);
    return text;
  }

  /** `GET /health`; resolves with envd's version. */
  async health(signal?: AbortSignal): Promise<string> {
    const body = JSON.parse(await this.#short("GET", "/health", undefined, signal)) as { version?: string };
    return body.version ?? "";
  }

  /** `POST /init` (env vars, access token, clock, ids); also triggers envd's post-restore cleanup. */
  async init(body: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.#short("POST", "/init", body, signal);
  }

  /** `GET /metrics` as envd's JSON. */
  async metrics(signal?: AbortSignal): Promise<unknown> {
    return JSON.parse(await this.#short("GET", "/metrics", undefined, signal));
  }

  /**
   * `POST /snapshot/prepare`. Closes this client's idle connections FIRST so their FINs
   * reach the guest during the quiesce window (envd closes its side of idle ones too).
   */
  async prepareSnapshot(signal?: AbortSignal): Promise<void> {
    this.closeIdleConnections();
    await this.#short("POST", "/snapshot/prepare", undefined, signal);
  }

  /** Destroys idle sockets of both pools; returns how many. Live streams are untouched. */
  closeIdleConnections(): number {
    return this.agents.closeIdleConnections();
  }

  /** Polls `/health` every `intervalMs` until it answers 2xx or `signal` aborts. */
  async waitHealthy(signal: AbortSignal, intervalMs = 100): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      try {
        // Each probe gets a short deadline of its own so a black-holed SYN cannot eat the budget.
        await this.health(AbortSignal.any([signal, AbortSignal.timeout(Math.max(intervalMs * 10, 1000))]));
        return;
      } catch {
        // Not up yet (refused, reset, 5xx): keep polling until the caller gives up.
        signal.throwIfAborted();
      }
      await sleep(intervalMs, signal);
    }
  }

  /** Streams a file out of the guest (`GET /files`) on the streaming pool; caller reads the body. */
  async download(path: string, user?: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.#files("GET", path, user, undefined, signal);
  }

  /** Streams `body` into a guest file (`POST /files`, multipart by the caller) on the streaming pool. */
  async upload(
    path: string,
    body: Readable | Buffer,
    contentType: string,
    user?: string,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    return this.#files("POST", path, user, { body, contentType }, signal);
  }

  #files(
    method: string,
    path: string,
    user: string | undefined,
    payload: { body: Readable | Buffer; contentType: string } | undefined,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const url = new URL("/files", this.#base);
    url.searchParams.set("path", path);
    if (user !== undefined) url.searchParams.set("username", user);
    return envdRequest({
      agent: this.agents.streaming,
      url,
      method,
      headers: this.#headers(payload ? { "content-type": payload.contentType } : {}),
      ...(payload ? { body: payload.body } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Destroys both pools (capsule destroyed). */
  close(): void {
    this.agents.destroy();
  }
}
