/** What the database says about a capsule, for the proxy. */
export interface ProxyTargetRow {
  readonly status: string;
  /** The agent's `host:port`, or null/empty when the host has none. */
  readonly hostAddress: string | null;
}

/** Looks a capsule up by its public id; undefined when it does not exist. */
export type ProxyTargetLookup = (sandboxId: string) => Promise<ProxyTargetRow | undefined>;

/** The outcome of a lookup. */
export type ProxyTarget =
  | { readonly kind: "ok"; readonly address: string }
  | { readonly kind: "not_found" }
  | { readonly kind: "not_running"; readonly status: string }
  | { readonly kind: "no_address" };

/**
 * Caches each running capsule's host address for a while (the reference: 120 s)
 * so proxied traffic does not query the database per request. Only positive
 * answers are cached: a capsule that starts running is reachable at once.
 * Evicted when a capsule is destroyed, paused or its host fails a request.
 */
export class ProxyTargetCache {
  readonly #lookup: ProxyTargetLookup;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { address: string; expires: number }>();
  readonly #now: () => number;

  constructor(lookup: ProxyTargetLookup, ttlMs: number, now: () => number = Date.now) {
    this.#lookup = lookup;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  async get(sandboxId: string): Promise<ProxyTarget> {
    const hit = this.#entries.get(sandboxId);
    if (hit !== undefined && hit.expires > this.#now()) return { kind: "ok", address: hit.address };
    this.#entries.delete(sandboxId);
    const row = await this.#lookup(sandboxId);
    if (row === undefined) return { kind: "not_found" };
    if (row.status !== "running") return { kind: "not_running", status: row.status };
    if (!row.hostAddress) return { kind: "no_address" };
    this.#entries.set(sandboxId, { address: row.hostAddress, expires: this.#now() + this.#ttlMs });
    return { kind: "ok", address: row.hostAddress };
  }

  /** The cached host address of a capsule, without looking it up. */
  peek(sandboxId: string): string | undefined {
    return this.#entries.get(sandboxId)?.address;
  }

  evict(sandboxId: string): void {
    this.#entries.delete(sandboxId);
  }
}
