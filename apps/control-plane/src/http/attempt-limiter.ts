import { ApiError } from "./api-error.js";

/** Options of {@link AttemptLimiter}. */
export interface AttemptLimiterOptions {
  /** Attempts allowed per key within one window. */
  readonly limit: number;
  readonly windowMs: number;
  /** What the 429 message calls the attempts, e.g. "failed sign-ins for this account". */
  readonly what: string;
  /** Keys remembered at most (memory bound); the oldest go first. @default 100_000 */
  readonly maxKeys?: number;
  /** Clock (tests move it). @default Date.now */
  readonly now?: () => number;
}

interface Window {
  start: number;
  count: number;
}

/**
 * Counts attempts per key (an account's email, a user id) in fixed windows and
 * refuses further ones with 429 `too_many_requests` (and `retry_after_sec`,
 * sent as `Retry-After` too) until the window ends. In memory: one control
 * plane process serves the API. Keys are case-sensitive; callers normalise.
 */
export class AttemptLimiter {
  readonly #o: AttemptLimiterOptions;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(options: AttemptLimiterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Throws 429 when `key` used up its attempts in the current window. Records nothing. */
  check(key: string): void {
    const w = this.#current(key);
    if (!w || w.count < this.#o.limit) return;
    const retryAfterSec = Math.max(1, Math.ceil((w.start + this.#o.windowMs - this.#now()) / 1000));
    throw new ApiError(429, "too_many_requests", `too many ${this.#o.what}; try again in ${retryAfterSec} s`, {
      extra: { retry_after_sec: retryAfterSec },
    });
  }

  /** Counts one attempt for `key`. */
  hit(key: string): void {
    const w = this.#current(key);
    if (w) {
      w.count += 1;
      return;
    }
    this.#windows.set(key, { start: this.#now(), count: 1 });
    if (this.#windows.size > (this.#o.maxKeys ?? 100_000)) this.#evict();
  }

  /** Forgets `key` (a successful sign-in clears its failures). */
  reset(key: string): void {
    this.#windows.delete(key);
  }

  /** The key's window unless it ended (an ended one is dropped). */
  #current(key: string): Window | undefined {
    const w = this.#windows.get(key);
    if (w && this.#now() - w.start >= this.#o.windowMs) {
      this.#windows.delete(key);
      return undefined;
    }
    return w;
  }

  /** Drops ended windows; when all are live, the oldest (insertion order) until under the bound. */
  #evict(): void {
    const now = this.#now();
    for (const [key, w] of this.#windows) if (now - w.start >= this.#o.windowMs) this.#windows.delete(key);
    const max = this.#o.maxKeys ?? 100_000;
    for (const key of this.#windows.keys()) {
      if (this.#windows.size <= max) break;
      this.#windows.delete(key);
    }
  }
}
