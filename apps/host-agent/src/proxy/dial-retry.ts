import { connect, type Socket } from "node:net";

/** How a dial is retried: `attempts` tries with `backoffMs * n` between try n and n+1. */
export interface DialRetryOptions {
  readonly attempts: number;
  readonly backoffMs: number;
  /** Per-attempt connect timeout. */
  readonly connectTimeoutMs: number;
}

/** The reference's policy: 3 attempts, 100 ms then 200 ms apart, 30 s connect timeout each. */
export const DEFAULT_DIAL_RETRY: DialRetryOptions = { attempts: 3, backoffMs: 100, connectTimeoutMs: 30_000 };

// Only these mean "nothing listens yet" (the gap between a guest process binding a port
// and envd's socat forwarder appearing). Anything else is a real failure.
const RETRYABLE = new Set(["ECONNREFUSED", "ECONNRESET"]);

/** True for a dial error worth retrying. */
export function isRetryableDialError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && RETRYABLE.has(code);
}

/**
 * Connects to host:port, retrying refused/reset dials with linear backoff. No request
 * byte has been written when a dial fails, so a retry is always safe. Rejects with the
 * last error, or with an AbortError as soon as `signal` aborts (also mid-backoff).
 * `onAttempt` is told about every try (tests count them).
 */
export async function dialWithRetry(
  host: string,
  port: number,
  options: DialRetryOptions,
  signal?: AbortSignal,
  onAttempt?: (attempt: number) => void,
): Promise<Socket> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    signal?.throwIfAborted();
    onAttempt?.(attempt);
    try {
      return await dialOnce(host, port, options.connectTimeoutMs, signal);
    } catch (err) {
      lastError = err;
      if (!isRetryableDialError(err) || attempt === options.attempts) break;
      await abortableDelay(options.backoffMs * attempt, signal);
    }
  }
  throw lastError;
}

function dialOnce(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const cleanup = (): void => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      socket.off("timeout", onTimeout);
      signal?.removeEventListener("abort", onAbort);
      socket.setTimeout(0);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onTimeout = (): void =>
      onError(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: "ETIMEDOUT" }));
    const onAbort = (): void => onError(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    socket.setTimeout(timeoutMs);
    socket.once("connect", onConnect);
    socket.once("error", onError);
    socket.once("timeout", onTimeout);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
