import { type Logger, PlatformError, silentLogger } from "@wrenn/kit";
import { type NetConfig, type SlotLayout, slotLayout, validateNetConfig } from "./net-config.js";
import type { AcquiredSlot, AcquireOptions, NetworkProvider, NetworkSlot } from "./network-provider.js";

/**
 * The side effects a network provider needs, one method per host change. `NetnsNetwork`
 * runs commands; `MemoryNetwork` edits an in-memory host. Everything else (the pool, slot
 * numbers, ownership, rollback) lives once, in `PooledNetwork`.
 */
export interface SlotBackend {
  /** Installs the firewall table (after leftovers are gone). */
  installRules(signal?: AbortSignal): Promise<void>;
  /** Creates the slot's namespace, veth pair and addresses. Must leave nothing behind if it throws after `destroy`. */
  create(layout: SlotLayout, signal?: AbortSignal): Promise<void>;
  /** Removes the slot; idempotent (also used for rollback). */
  destroy(layout: SlotLayout, signal?: AbortSignal): Promise<void>;
  /** Adds or removes the slot's host interface from the egress set. */
  setEgress(layout: SlotLayout, allowed: boolean, signal?: AbortSignal): Promise<void>;
  /** Removes every prefixed netns, link and the table except the slots in `keep`. */
  removeLeftovers(keep: ReadonlySet<number>, signal?: AbortSignal): Promise<void>;
  /** Removes the firewall table (provider disposal). */
  removeRules(signal?: AbortSignal): Promise<void>;
}

class HeldSlot implements AcquiredSlot {
  readonly slot: number;
  readonly name: string;
  readonly netnsPath: string;
  readonly hostInterface: string;
  readonly hostIp: string;
  readonly guestIp: string;
  egressOn = false;
  /** Serialises egress changes of this slot, so `egressOn` always matches the nft set. */
  egressQueue: Promise<void> = Promise.resolve();
  #release: () => Promise<void>;
  #released: Promise<void> | undefined;

  constructor(
    readonly layout: SlotLayout,
    readonly sandboxId: string,
    release: (s: HeldSlot) => Promise<void>,
  ) {
    this.slot = layout.slot;
    this.name = layout.netns;
    this.netnsPath = layout.netnsPath;
    this.hostInterface = layout.hostInterface;
    this.hostIp = layout.hostIp;
    this.guestIp = layout.guestIp;
    this.#release = () => release(this);
  }

  get egress(): boolean {
    return this.egressOn;
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }
}

/** A NetworkProvider over a SlotBackend: slot numbering, pre-created pool, ownership, rollback. */
export class PooledNetwork implements NetworkProvider {
  readonly #config: NetConfig;
  readonly #backend: SlotBackend;
  readonly #log: Logger;
  /** Slot numbers that exist or are being created/destroyed. */
  readonly #busy = new Set<number>();
  readonly #pool: SlotLayout[] = [];
  readonly #held = new Map<string, HeldSlot>();
  /** Sandbox ids with an acquire in flight, so two concurrent acquires cannot both win. */
  readonly #pending = new Set<string>();
  #cursor: number;
  #refilling: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #disposed = false;

  constructor(config: NetConfig, backend: SlotBackend, log: Logger = silentLogger) {
    validateNetConfig(config);
    this.#config = config;
    this.#backend = backend;
    this.#log = log;
    this.#cursor = config.firstSlot;
  }

  get poolReady(): number {
    return this.#pool.length;
  }

  start(signal?: AbortSignal): Promise<void> {
    this.#started ??= (async () => {
      await this.cleanupLeftovers(signal);
      await this.#backend.installRules(signal);
      await this.#refill();
    })().catch((err: unknown) => {
      // A failed start (or an aborted first acquire) must not poison every later one.
      this.#started = undefined;
      throw err;
    });
    return this.#started;
  }

  held(): readonly NetworkSlot[] {
    return [...this.#held.values()];
  }

  async acquire(sandboxId: string, options: AcquireOptions, signal?: AbortSignal): Promise<AcquiredSlot> {
    signal?.throwIfAborted();
    this.#assertOpen();
    if (this.#held.has(sandboxId) || this.#pending.has(sandboxId)) {
      throw new PlatformError("failed_precondition", "slot_already_held", `sandbox ${sandboxId} already holds a slot`);
    }
    this.#pending.add(sandboxId);
    let layout: SlotLayout;
    try {
      await this.start(signal);
      layout = this.#pool.shift() ?? (await this.#createFresh(signal));
    } finally {
      this.#pending.delete(sandboxId);
    }
    if (this.#disposed) {
      // The provider was disposed while this slot was being made: it is not ours to hand out.
      await this.#destroy(layout);
      this.#assertOpen();
    }
    const held = new HeldSlot(layout, sandboxId, (s) => this.#release(s));
    this.#held.set(sandboxId, held);
    try {
      if (options.allowEgress) await this.#setEgress(held, true, signal);
      signal?.throwIfAborted();
    } catch (err) {
      await held[Symbol.asyncDispose]();
      throw err;
    }
    this.#kickRefill();
    return held;
  }

  async setEgress(slot: NetworkSlot, allowed: boolean, signal?: AbortSignal): Promise<void> {
    const held = this.#held.get(slot.sandboxId);
    if (!held || held.slot !== slot.slot) {
      throw new PlatformError("not_found", "slot_not_held", `slot ${slot.slot} is not held by ${slot.sandboxId}`);
    }
    await this.#setEgress(held, allowed, signal);
  }

  async cleanupLeftovers(signal?: AbortSignal): Promise<void> {
    await this.#backend.removeLeftovers(new Set(this.#busy), signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#started?.catch(() => undefined);
    await this.#refilling;
    const errors: unknown[] = [];
    const releases = [...this.#held.values()].map((h) => h[Symbol.asyncDispose]());
    const pooled = this.#pool.splice(0).map((l) => this.#destroy(l));
    for (const r of await Promise.allSettled([...releases, ...pooled])) {
      if (r.status === "rejected") errors.push(r.reason);
    }
    try {
      await this.#backend.removeRules();
    } catch (err) {
      errors.push(err);
    }
    if (errors.length > 0) throw new AggregateError(errors, "network provider teardown failed");
  }

  #setEgress(held: HeldSlot, allowed: boolean, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const change = held.egressQueue.then(async () => {
      if (held.egressOn === allowed) return;
      // No signal here on purpose: a change killed half-way would leave the set and
      // `egressOn` disagreeing, and a stale element would outlive the slot. nft is atomic
      // and takes a few milliseconds.
      await this.#backend.setEgress(held.layout, allowed);
      held.egressOn = allowed;
    });
    held.egressQueue = change.catch(() => undefined);
    return change;
  }

  async #release(held: HeldSlot): Promise<void> {
    this.#held.delete(held.sandboxId);
    // The egress set holds interface *names*: a stale element would hand egress to the next
    // slot with this number. Both removals run at once (the number stays busy until both
    // succeeded, so nothing can reuse the name in between); on failure it stays busy for
    // good and the next start's cleanup removes the remains.
    const egressOff = this.#setEgress(held, false);
    const results = await Promise.allSettled([egressOff, this.#backend.destroy(held.layout)]);
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    if (errors.length > 0) throw new AggregateError(errors, `releasing network slot ${held.slot} failed`);
    this.#busy.delete(held.slot);
  }

  async #createFresh(signal?: AbortSignal): Promise<SlotLayout> {
    const layout = this.#allocate();
    try {
      await this.#backend.create(layout, signal);
      return layout;
    } catch (err) {
      await this.#destroy(layout).catch((e: unknown) => this.#log.warn({ err: String(e) }, "slot rollback failed"));
      throw err;
    }
  }

  async #destroy(layout: SlotLayout): Promise<void> {
    // Freed only once really gone, so a half-removed slot is never handed out again.
    await this.#backend.destroy(layout);
    this.#busy.delete(layout.slot);
  }

  #allocate(): SlotLayout {
    const { firstSlot, slotCount } = this.#config;
    for (let i = 0; i < slotCount; i++) {
      // Rotate instead of reusing the lowest number: a just-freed address may still have
      // conntrack entries, so it rests while the others are used.
      const n = firstSlot + ((this.#cursor - firstSlot + i) % slotCount);
      if (!this.#busy.has(n)) {
        this.#busy.add(n);
        this.#cursor = n + 1;
        return slotLayout(n, this.#config);
      }
    }
    throw new PlatformError("resource_exhausted", "no_free_slot", `all ${slotCount} network slots are in use`);
  }

  #kickRefill(): void {
    if (this.#refilling || this.#disposed) return;
    // setImmediate: spawning `ip` is synchronous work, and the caller is waiting for its slot.
    this.#refilling = new Promise<void>((r) => setImmediate(r))
      .then(() => this.#refill())
      .catch((err: unknown) => this.#log.warn({ err: String(err) }, "slot pool refill failed"))
      .finally(() => {
        this.#refilling = undefined;
      });
  }

  async #refill(): Promise<void> {
    while (!this.#disposed && this.#pool.length < this.#config.poolSize && this.#busy.size < this.#config.slotCount) {
      this.#pool.push(await this.#createFresh());
    }
  }

  #assertOpen(): void {
    if (this.#disposed)
      throw new PlatformError("failed_precondition", "network_disposed", "network provider is disposed");
  }
}
