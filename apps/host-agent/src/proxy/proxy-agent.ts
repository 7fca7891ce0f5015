import { Agent, type ClientRequestArgs } from "node:http";
import type { Duplex } from "node:stream";
import { DEFAULT_DIAL_RETRY, type DialRetryOptions, dialWithRetry } from "./dial-retry.js";

/** Request option carrying the client's abort signal down to the dialer (Node strips `signal`). */
export const DIAL_SIGNAL = "wrennDialSignal";

/** Request options accepted by {@link ProxyAgent}: the usual ones plus the dial signal. */
export type ProxyRequestArgs = ClientRequestArgs & { [DIAL_SIGNAL]?: AbortSignal };

/** Pool settings of the proxy transport. */
export interface ProxyAgentOptions {
  /** Idle keep-alive sockets kept per guest host:port (reference MaxIdleConnsPerHost 20). */
  readonly maxIdleSocketsPerHost?: number;
  /** Idle keep-alive sockets are closed after this long (reference IdleConnTimeout 120 s). */
  readonly idleTimeoutMs?: number;
  readonly dialRetry?: DialRetryOptions;
}

/**
 * The port proxy's own HTTP/1.1 keep-alive pool, never shared with the RPC or envd
 * clients: heavy user traffic (Jupyter polling, WebSockets) must not queue behind or
 * starve PTY and exec streams. Dials retry refused ports with linear backoff.
 */
export class ProxyAgent extends Agent {
  /** Dial attempts made so far (all hosts); tests and metrics read it. */
  dialAttempts = 0;
  readonly #retry: DialRetryOptions;

  constructor(options: ProxyAgentOptions = {}) {
    super({
      keepAlive: true,
      // Like the reference, only idle sockets are capped: a cap on busy ones would park the
      // 21st long-poll or event stream of a page behind the others (and Node does not count
      // sockets still dialing against maxSockets, so such a cap leaks under async dials).
      maxSockets: Number.POSITIVE_INFINITY,
      maxFreeSockets: options.maxIdleSocketsPerHost ?? 20,
      // On a free socket this is the idle timeout; on a busy one Node only emits
      // 'timeout', which nothing here acts on, so long streams are not cut.
      timeout: options.idleTimeoutMs ?? 120_000,
      scheduling: "lifo",
    });
    this.#retry = options.dialRetry ?? DEFAULT_DIAL_RETRY;
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = options.host ?? "127.0.0.1";
    const port = Number(options.port);
    const signal = (options as ProxyRequestArgs)[DIAL_SIGNAL];
    dialWithRetry(host, port, this.#retry, signal, () => {
      this.dialAttempts++;
    }).then(
      (socket) => callback?.(null, socket),
      // Node's oncreate ignores the stream argument on error.
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
    return undefined;
  }

  /** Destroys pooled idle sockets to one guest host:port (after the capsule is gone). */
  dropIdle(host: string, port: number): void {
    const prefix = `${host}:${port}:`;
    for (const [name, sockets] of Object.entries(this.freeSockets)) {
      if (!name.startsWith(prefix)) continue;
      for (const s of sockets ?? []) s.destroy();
    }
  }
}
