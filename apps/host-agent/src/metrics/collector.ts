/**
 * Samples the usage of every running capsule into its MetricsStore on ONE timer for the
 * whole agent. A timer (and a chain of promises) per capsule cost the agent about 1 % of a
 * core per capsule at 500 ms; one tick for all of them keeps the per-capsule cost to the
 * reads themselves. The timer is armed only while at least one capsule is tracked, so an
 * agent without running capsules holds no timer at all.
 *
 * Ticks are chained: the next one is armed after every read of the current one settled, so a
 * slow read (a busy VMM) delays the tick instead of piling up overlapping ones. The manager
 * stops tracking a capsule on pause and destroy (the reference leaked one sampler per pause)
 * and tracks it again on resume.
 */
import type { SandboxUsage } from "../runtime/runtime.js";
import { type Clock, systemClock, type TimerHandle } from "./clock.js";
import type { MetricsStore } from "./metrics-store.js";

/** One capsule to sample. */
export interface CapsuleSource {
  /** Reads the capsule's usage now (SandboxHandle.usage). */
  readonly read: () => Promise<SandboxUsage>;
  readonly store: MetricsStore;
  /** vCPUs of the capsule: CPU% is of all of them, like the reference. */
  readonly vcpus: number;
}

/** Options of {@link MetricsCollector}. */
export interface MetricsCollectorOptions {
  /** Period of the shared tick. @default 500 (the reference's period) */
  readonly intervalMs?: number;
  readonly clock?: Clock;
  /** Called when a read fails (that capsule's sample is skipped, sampling goes on). */
  readonly onError?: (sandboxId: string, err: unknown) => void;
}

interface Tracked extends CapsuleSource {
  /** Cleared on untrack, so a read in flight at that moment stores nothing. */
  active: boolean;
  prev: { atMs: number; cpuMicros: number } | undefined;
}

/** The agent's one sampler of capsule usage. */
export class MetricsCollector implements AsyncDisposable {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onError: ((sandboxId: string, err: unknown) => void) | undefined;
  readonly #tracked = new Map<string, Tracked>();
  #timer: TimerHandle | undefined;
  #tick: Promise<void> | undefined;
  #disposed = false;

  constructor(opts: MetricsCollectorOptions = {}) {
    const intervalMs = opts.intervalMs ?? 500;
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`);
    this.#clock = opts.clock ?? systemClock;
    this.#intervalMs = intervalMs;
    this.#onError = opts.onError;
  }

  /** Number of capsules being sampled. */
  get size(): number {
    return this.#tracked.size;
  }

  /** Whether `sandboxId` is being sampled. */
  has(sandboxId: string): boolean {
    return this.#tracked.has(sandboxId);
  }

  /**
   * Starts sampling a capsule (again). Its first read only sets the CPU baseline, so a
   * resumed capsule's paused time never shows as CPU use. Tracking an id that is already
   * tracked is a no-op: the running series goes on.
   */
  track(sandboxId: string, source: CapsuleSource): void {
    if (this.#disposed) throw new Error("the metrics collector is closed");
    if (!(source.vcpus > 0)) throw new RangeError(`vcpus must be positive, got ${source.vcpus}`);
    if (this.#tracked.has(sandboxId)) return;
    this.#tracked.set(sandboxId, { ...source, active: true, prev: undefined });
    this.#arm();
  }

  /**
   * Stops sampling a capsule: no read of it starts afterwards, and the promise resolves once
   * a read in flight has finished (it stores nothing). Unknown ids are fine.
   */
  async untrack(sandboxId: string): Promise<void> {
    const t = this.#tracked.get(sandboxId);
    if (!t) return;
    t.active = false;
    this.#tracked.delete(sandboxId);
    if (this.#tracked.size === 0) this.#disarm();
    await this.#tick;
  }

  /** Stops every sampling and the timer; waits for a tick in flight. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#disposed = true;
    for (const t of this.#tracked.values()) t.active = false;
    this.#tracked.clear();
    this.#disarm();
    await this.#tick;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#tick !== undefined || this.#tracked.size === 0 || this.#disposed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const batch = [...this.#tracked.entries()];
      const tick = Promise.all(batch.map(([id, t]) => this.#sample(id, t))).then(() => undefined);
      this.#tick = tick;
      void tick.finally(() => {
        this.#tick = undefined;
        this.#arm();
      });
    }, this.#intervalMs);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #sample(id: string, t: Tracked): Promise<void> {
    let usage: SandboxUsage;
    try {
      usage = await t.read();
    } catch (err) {
      if (t.active) this.#onError?.(id, err);
      return;
    }
    if (!t.active) return;
    const cur = { atMs: this.#clock.now(), cpuMicros: usage.cpuUsageMicros };
    const prev = t.prev;
    t.prev = cur;
    if (!prev) return;
    t.store.add({
      timestampMs: cur.atMs,
      cpuPct: cpuPercent(prev, cur, t.vcpus),
      memBytes: usage.memoryBytes,
      diskBytes: usage.diskBytes,
    });
  }
}

/** PURE: CPU% between two readings = Δcpu / (Δwall × vcpus), clamped to 0..100. */
export function cpuPercent(
  prev: { atMs: number; cpuMicros: number },
  cur: { atMs: number; cpuMicros: number },
  vcpus: number,
): number {
  const wallMicros = (cur.atMs - prev.atMs) * 1000;
  if (wallMicros <= 0) return 0;
  const pct = ((cur.cpuMicros - prev.cpuMicros) / (wallMicros * vcpus)) * 100;
  return Math.min(100, Math.max(0, pct));
}
