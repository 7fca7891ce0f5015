/**
 * Samples one capsule's usage on a timer into its MetricsStore. One sampler per running
 * capsule: the agent stops it on pause and destroy (the reference leaked one per pause) and
 * starts it again on resume. Reads are chained (next timer set after the read finishes), so
 * a slow read never piles up overlapping ones.
 */
import type { SandboxUsage } from "../runtime/runtime.js";
import { type Clock, systemClock, type TimerHandle } from "./clock.js";
import type { MetricsStore, TierPoints } from "./metrics-store.js";

/** Options for one sampler. */
export interface SamplerOptions {
  /** Reads the capsule's usage now (SandboxHandle.usage). */
  readonly read: () => Promise<SandboxUsage>;
  readonly store: MetricsStore;
  /** vCPUs of the capsule: CPU% is of all of them, like the reference. */
  readonly vcpus: number;
  /** @default 500 (the reference's period) */
  readonly intervalMs?: number;
  readonly clock?: Clock;
  /** Called when a read fails (the sample is skipped, sampling goes on). */
  readonly onError?: (err: unknown) => void;
}

/** A start/stop-able periodic sampler. */
export class Sampler {
  readonly #opts: SamplerOptions;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  #timer: TimerHandle | undefined;
  #running = false;
  /** Bumped on every start/stop, so a read started before a stop never stores or reschedules. */
  #generation = 0;
  #inFlight: Promise<void> | undefined;
  #prev: { atMs: number; cpuMicros: number } | undefined;

  constructor(opts: SamplerOptions) {
    if (!(opts.vcpus > 0)) throw new RangeError(`vcpus must be positive, got ${opts.vcpus}`);
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#intervalMs = opts.intervalMs ?? 500;
  }

  /** Whether the sampler is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts sampling (idempotent). The first sample only sets the CPU baseline. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#generation++;
    this.#prev = undefined;
    this.#schedule(this.#generation);
  }

  /** Stops sampling: clears the timer at once; resolves once an in-flight read has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  /** FlushSandboxMetrics: stops the sampler and returns every tier. */
  async flush(): Promise<TierPoints> {
    await this.stop();
    return this.#opts.store.all();
  }

  #schedule(gen: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const tick = this.#tick(gen);
      this.#inFlight = tick;
      void tick.finally(() => {
        if (this.#inFlight === tick) this.#inFlight = undefined;
        if (this.#running && this.#generation === gen) this.#schedule(gen);
      });
    }, this.#intervalMs);
  }

  async #tick(gen: number): Promise<void> {
    let usage: SandboxUsage;
    try {
      usage = await this.#opts.read();
    } catch (err) {
      this.#opts.onError?.(err);
      return;
    }
    if (this.#generation !== gen) return;
    const now = this.#clock.now();
    const prev = this.#prev;
    this.#prev = { atMs: now, cpuMicros: usage.cpuUsageMicros };
    if (!prev) return;
    this.#opts.store.add({
      timestampMs: now,
      cpuPct: cpuPercent(prev, { atMs: now, cpuMicros: usage.cpuUsageMicros }, this.#opts.vcpus),
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
