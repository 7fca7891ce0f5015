/**
 * Timing of the port forwarder. A probe (two tiny /proc reads, see
 * `SocketCountProbe`) runs on every tick; the full scan of /proc/net/tcp{,6}
 * (about 1 ms of kernel time per table, however few sockets the capsule has:
 * the kernel walks the host-wide hash table) runs only when the probe saw the
 * socket counts change, or when `scanGapMs` has passed without a scan.
 */
export interface ScanPacing {
  /** Tick interval during the fast window. @default 100 */
  readonly fastMs: number;
  /** How long ticks stay fast after activity (a process start, a listener change). @default 5000 */
  readonly fastWindowMs: number;
  /** Slowest tick interval: after the fast window the interval doubles up to this. @default 1000 */
  readonly probeMs: number;
  /**
   * Longest time between two full scans while the probe sees no change. The
   * gap starts at `probeMs` after activity and doubles with every scan that
   * finds the listeners unchanged. It bounds the delay for what the probe
   * cannot see: a listener that opens while another socket closes between two
   * probes (the counts stay equal), or a kernel without /proc/net/sockstat.
   * @default 30000
   */
  readonly maxScanGapMs: number;
}

/** Production pacing: ≤ 100 ms detection after a command starts, ≤ 1 s otherwise. */
export const DEFAULT_SCAN_PACING: ScanPacing = {
  fastMs: 100,
  fastWindowMs: 5000,
  probeMs: 1000,
  maxScanGapMs: 30_000,
};

/** Snapshot of the pacer for diagnostics and tests. */
export interface PacerState {
  /** Delay before the next tick, ms. */
  readonly tickDelayMs: number;
  /** Current longest gap between full scans, ms. */
  readonly scanGapMs: number;
  /** True inside the fast window. */
  readonly fast: boolean;
}

/**
 * Decides when the forwarder ticks and when a tick must scan. Pure state
 * over a caller-supplied clock (milliseconds, monotonic), so it is tested
 * without waiting.
 */
export class ScanPacer {
  readonly #pacing: ScanPacing;
  #activityAt = Number.NEGATIVE_INFINITY;
  #tickDelay: number;
  #scanGap: number;
  #lastScanAt = Number.NEGATIVE_INFINITY;

  /** `pacing` fields left out take DEFAULT_SCAN_PACING's values; non-positive ones are refused. */
  constructor(pacing: Partial<ScanPacing> = {}) {
    const p = { ...DEFAULT_SCAN_PACING, ...pacing };
    for (const [name, value] of Object.entries(p)) {
      if (!(value > 0)) throw new RangeError(`scan pacing ${name} must be a positive number of ms`);
    }
    if (p.fastMs > p.probeMs || p.probeMs > p.maxScanGapMs) {
      throw new RangeError("scan pacing must satisfy fastMs <= probeMs <= maxScanGapMs");
    }
    this.#pacing = p;
    this.#tickDelay = p.fastMs;
    this.#scanGap = p.probeMs;
  }

  /** Something may soon listen (a process started, the listeners changed): tick fast again. */
  activity(now: number): void {
    this.#activityAt = now;
    this.#tickDelay = this.#pacing.fastMs;
    this.#scanGap = this.#pacing.probeMs;
  }

  /** True inside the fast window that follows the last activity. */
  isFast(now: number): boolean {
    return now - this.#activityAt < this.#pacing.fastWindowMs;
  }

  /** Delay until the next tick: fastMs inside the fast window, then doubling up to probeMs. */
  nextTickDelay(now: number): number {
    this.#tickDelay = this.isFast(now) ? this.#pacing.fastMs : Math.min(this.#pacing.probeMs, this.#tickDelay * 2);
    return this.#tickDelay;
  }

  /** True when the last full scan is at least the current scan gap old. */
  scanDue(now: number): boolean {
    return now - this.#lastScanAt >= this.#scanGap;
  }

  /** Records a full scan; `listenersChanged` counts as activity, else the scan gap doubles. */
  scanned(now: number, listenersChanged: boolean): void {
    this.#lastScanAt = now;
    if (listenersChanged) this.activity(now);
    else this.#scanGap = Math.min(this.#pacing.maxScanGapMs, this.#scanGap * 2);
  }

  /** Current state (the delay is the one last returned by nextTickDelay). */
  state(now: number): PacerState {
    return { tickDelayMs: this.#tickDelay, scanGapMs: this.#scanGap, fast: this.isFast(now) };
  }

  /** The pacing in force (defaults filled in). */
  get pacing(): ScanPacing {
    return this.#pacing;
  }
}
