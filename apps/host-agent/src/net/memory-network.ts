import { type Logger, PlatformError } from "@wrenn/kit";
import { type NetConfig, ownedNamePatterns, type SlotLayout } from "./net-config.js";
import { PooledNetwork, type SlotBackend } from "./pooled-network.js";

/**
 * An in-memory stand-in for the host's network state (namespaces, links, nft tables and
 * the egress set). Two MemoryNetworks sharing one MemoryHost model an agent restart after
 * a crash.
 */
export class MemoryHost {
  readonly netns = new Set<string>();
  readonly links = new Set<string>();
  readonly tables = new Set<string>();
  readonly egress = new Set<string>();
  /** Slot numbers whose next `create` fails, to exercise rollback. */
  readonly failCreate = new Set<number>();

  /** Names under `prefix` that exist now. */
  owned(prefix: string): string[] {
    const pat = ownedNamePatterns(prefix);
    return [
      ...[...this.netns].filter((n) => pat.netns.test(n)),
      ...[...this.links].filter((n) => pat.link.test(n)),
      ...[...this.tables].filter((t) => t === `inet ${prefix}`),
    ];
  }
}

/** Options for the in-memory provider. */
export interface MemoryNetworkOptions {
  readonly host?: MemoryHost;
  readonly log?: Logger;
}

/** NetworkProvider with slot bookkeeping only: for the core's tests and for machines without CAP_NET_ADMIN. */
export class MemoryNetwork extends PooledNetwork {
  readonly host: MemoryHost;

  constructor(config: NetConfig, options: MemoryNetworkOptions = {}) {
    const host = options.host ?? new MemoryHost();
    super(config, new MemoryBackend(config, host), options.log);
    this.host = host;
  }
}

class MemoryBackend implements SlotBackend {
  constructor(
    readonly config: NetConfig,
    readonly host: MemoryHost,
  ) {}

  async installRules(): Promise<void> {
    this.host.tables.add(this.#table());
  }

  async create(layout: SlotLayout, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.host.netns.has(layout.netns) || this.host.links.has(layout.hostInterface)) {
      throw new PlatformError("already_exists", "slot_exists", `slot ${layout.slot} already exists`);
    }
    this.host.netns.add(layout.netns);
    if (this.host.failCreate.delete(layout.slot)) {
      throw new PlatformError("internal", "slot_create_failed", `injected failure creating slot ${layout.slot}`);
    }
    this.host.links.add(layout.hostInterface);
  }

  async destroy(layout: SlotLayout): Promise<void> {
    this.host.netns.delete(layout.netns);
    this.host.links.delete(layout.hostInterface);
  }

  async setEgress(layout: SlotLayout, allowed: boolean, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (!this.host.tables.has(this.#table())) {
      throw new PlatformError("internal", "no_table", "egress change without the nft table");
    }
    if (allowed) this.host.egress.add(layout.hostInterface);
    else if (!this.host.egress.delete(layout.hostInterface)) {
      // Mirrors nft: deleting an element that is not there fails.
      throw new PlatformError("internal", "no_element", `${layout.hostInterface} is not in the egress set`);
    }
  }

  async removeLeftovers(keep: ReadonlySet<number>): Promise<void> {
    const pat = ownedNamePatterns(this.config.prefix);
    const slotOf = (name: string) => Number(name.slice(this.config.prefix.length + 1));
    for (const n of [...this.host.netns]) if (pat.netns.test(n) && !keep.has(slotOf(n))) this.host.netns.delete(n);
    for (const l of [...this.host.links]) if (pat.link.test(l) && !keep.has(slotOf(l))) this.host.links.delete(l);
    if (keep.size === 0) await this.removeRules();
  }

  async removeRules(): Promise<void> {
    this.host.tables.delete(this.#table());
    const pat = ownedNamePatterns(this.config.prefix);
    for (const e of [...this.host.egress]) if (pat.link.test(e)) this.host.egress.delete(e);
  }

  #table(): string {
    return `inet ${this.config.prefix}`;
  }
}
