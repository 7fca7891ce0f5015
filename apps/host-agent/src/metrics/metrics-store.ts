/**
 * Per-capsule metrics in three bounded tiers. Every sample feeds all three; each tier averages
 * the samples falling in one of its time buckets into one point:
 *
 * | tier  | span   | resolution | points |
 * |-------|--------|------------|--------|
 * | `10m` | 10 min | 1 s        | 600    |
 * | `2h`  | 2 h    | 10 s       | 720    |
 * | `24h` | 24 h   | 2 min      | 720    |
 *
 * So a capsule's history costs at most 2040 points (~100 KiB) however long it lives. Buckets are
 * aligned to wall-clock multiples of the resolution, so points from different capsules line up.
 */
import { RingBuffer } from "./ring-buffer.js";

/** One point of a capsule's history. */
export interface MetricPoint {
  /** Start of the point's bucket (ms since the epoch). */
  readonly timestampMs: number;
  /** CPU use in percent of the capsule's vCPUs, 0..100. */
  readonly cpuPct: number;
  readonly memBytes: number;
  readonly diskBytes: number;
}

/** Tier names (as in FlushSandboxMetricsResponse: points10m, points2h, points24h). */
export type TierName = "10m" | "2h" | "24h";

/** A tier's shape. */
export interface TierSpec {
  readonly name: TierName;
  readonly spanMs: number;
  readonly resolutionMs: number;
}

/** The tiers described above. */
export const DEFAULT_TIERS: readonly TierSpec[] = [
  { name: "10m", spanMs: 10 * 60_000, resolutionMs: 1_000 },
  { name: "2h", spanMs: 2 * 3_600_000, resolutionMs: 10_000 },
  { name: "24h", spanMs: 24 * 3_600_000, resolutionMs: 120_000 },
];

/** Query ranges GetSandboxMetrics accepts. */
export const METRICS_RANGES = ["5m", "10m", "1h", "2h", "6h", "12h", "24h"] as const;
/** One accepted query range. */
export type MetricsRange = (typeof METRICS_RANGES)[number];

const RANGE: Record<MetricsRange, { ms: number; tier: TierName }> = {
  "5m": { ms: 5 * 60_000, tier: "10m" },
  "10m": { ms: 10 * 60_000, tier: "10m" },
  "1h": { ms: 3_600_000, tier: "2h" },
  "2h": { ms: 2 * 3_600_000, tier: "2h" },
  "6h": { ms: 6 * 3_600_000, tier: "24h" },
  "12h": { ms: 12 * 3_600_000, tier: "24h" },
  "24h": { ms: 24 * 3_600_000, tier: "24h" },
};

/** Whether `s` is an accepted range (for request validation). */
export function isMetricsRange(s: string): s is MetricsRange {
  return (METRICS_RANGES as readonly string[]).includes(s);
}

/** Running sums for the bucket a tier is currently filling. */
interface Partial {
  bucket: number;
  n: number;
  cpu: number;
  mem: number;
  disk: number;
}

class Tier {
  readonly ring: RingBuffer<MetricPoint>;
  #partial: Partial | undefined;

  constructor(readonly spec: TierSpec) {
    this.ring = new RingBuffer(Math.ceil(spec.spanMs / spec.resolutionMs));
  }

  add(p: MetricPoint): void {
    const bucket = Math.floor(p.timestampMs / this.spec.resolutionMs);
    const cur = this.#partial;
    if (cur && bucket < cur.bucket) return; // clock went backwards: drop rather than reorder
    if (cur && bucket !== cur.bucket) {
      this.ring.push(this.#point(cur));
      this.#partial = undefined;
    }
    const next = this.#partial ?? { bucket, n: 0, cpu: 0, mem: 0, disk: 0 };
    next.n++;
    next.cpu += p.cpuPct;
    next.mem += p.memBytes;
    next.disk += p.diskBytes;
    this.#partial = next;
  }

  /** Completed points plus the bucket being filled, oldest first, not older than `sinceMs`. */
  points(sinceMs: number): MetricPoint[] {
    const out = this.ring.filter((p) => p.timestampMs >= sinceMs);
    if (this.#partial) {
      const p = this.#point(this.#partial);
      if (p.timestampMs >= sinceMs) out.push(p);
    }
    return out;
  }

  clear(): void {
    this.ring.clear();
    this.#partial = undefined;
  }

  #point(s: Partial): MetricPoint {
    return {
      timestampMs: s.bucket * this.spec.resolutionMs,
      cpuPct: s.cpu / s.n,
      memBytes: Math.round(s.mem / s.n),
      diskBytes: Math.round(s.disk / s.n),
    };
  }
}

/** All tiers of one capsule. */
export type TierPoints = Record<TierName, MetricPoint[]>;

/** One capsule's metrics history. */
export class MetricsStore {
  readonly #tiers: Map<TierName, Tier>;

  constructor(tiers: readonly TierSpec[] = DEFAULT_TIERS) {
    this.#tiers = new Map(tiers.map((t) => [t.name, new Tier(t)]));
  }

  /** Records one sample into every tier. */
  add(point: MetricPoint): void {
    for (const t of this.#tiers.values()) t.add(point);
  }

  /** GetSandboxMetrics: the tier serving `range`, filtered to the last `range` before `nowMs`. */
  query(range: MetricsRange, nowMs: number): MetricPoint[] {
    const r = RANGE[range];
    return this.#tiers.get(r.tier)?.points(nowMs - r.ms) ?? [];
  }

  /** FlushSandboxMetrics: every tier in full. */
  all(): TierPoints {
    const get = (n: TierName) => this.#tiers.get(n)?.points(Number.NEGATIVE_INFINITY) ?? [];
    return { "10m": get("10m"), "2h": get("2h"), "24h": get("24h") };
  }

  /** Largest number of points the store can hold (sum of ring capacities plus one partial per tier). */
  get maxPoints(): number {
    let n = 0;
    for (const t of this.#tiers.values()) n += t.ring.capacity + 1;
    return n;
  }

  /** Forgets everything. */
  clear(): void {
    for (const t of this.#tiers.values()) t.clear();
  }
}
