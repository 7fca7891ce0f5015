/**
 * Team-wide numbers behind the dashboard (inventory §5.9): `GET
 * /v1/capsules/stats` (live load, 30-day peaks, a MAX-bucketed series) and
 * `GET /v1/capsules/usage` (daily CPU and RAM minutes).
 */
import type { CapsuleStats, CapsuleUsage, StatsRange } from "@wrenn/api-schema";
import { invalidRequest } from "../http/api-error.js";
import type { MetricsRepo } from "./metrics.repo.js";
import { type DailyUsage, DEFAULT_SAMPLE_SECONDS, type UsageRepo } from "./usage.repo.js";

/**
 * Look-back and bucket width of each stats range, chosen so every chart has
 * 30 to 120 buckets; a bucket keeps the maximum so short spikes stay visible.
 */
export const STATS_RANGES: Readonly<Record<StatsRange, { lookbackSeconds: number; bucketSeconds: number }>> = {
  "5m": { lookbackSeconds: 300, bucketSeconds: 10 },
  "1h": { lookbackSeconds: 3600, bucketSeconds: 60 },
  "6h": { lookbackSeconds: 6 * 3600, bucketSeconds: 300 },
  "24h": { lookbackSeconds: 24 * 3600, bucketSeconds: 900 },
  "30d": { lookbackSeconds: 30 * 86_400, bucketSeconds: 6 * 3600 },
};

/** Longest usage query, in days (both ends included). */
export const MAX_USAGE_DAYS = 92;
/** Days of the default usage query, today included. */
export const DEFAULT_USAGE_DAYS = 30;

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' of a UTC instant. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Days from `day` ('YYYY-MM-DD'), negative for earlier. */
export function addDays(day: string, days: number): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** What the stats service needs. */
export interface StatsServiceDeps {
  readonly metrics: MetricsRepo;
  readonly usage: UsageRepo;
  /** The sampler's period, for today's live usage. @default 10 s */
  readonly sampleSeconds?: number;
  /** Clock (tests move it). @default Date.now */
  readonly now?: () => number;
}

/** Team stats and usage. */
export function createStatsService(deps: StatsServiceDeps) {
  const now = deps.now ?? Date.now;
  const sampleSeconds = deps.sampleSeconds ?? DEFAULT_SAMPLE_SECONDS;

  return {
    /** Live load, 30-day peaks and the series of `range`. */
    async stats(teamId: string, range: StatsRange): Promise<CapsuleStats> {
      const [live, peak, series] = await Promise.all([
        deps.metrics.getLive(teamId),
        deps.metrics.getPeak(teamId, 30),
        deps.metrics.getSeries(teamId, STATS_RANGES[range]),
      ]);
      return {
        range,
        current: {
          running_count: Number(live.runningCount),
          vcpus_reserved: Number(live.vcpusReserved),
          memory_mb_reserved: Number(live.memoryMbReserved),
        },
        peaks: {
          running_count: Number(peak.runningCount),
          vcpus: Number(peak.vcpusReserved),
          memory_mb: Number(peak.memoryMbReserved),
        },
        series: {
          labels: series.map((p) => new Date(p.bucket).toISOString()),
          running: series.map((p) => Number(p.runningCount)),
          vcpus: series.map((p) => Number(p.vcpusReserved)),
          memory_mb: series.map((p) => Number(p.memoryMbReserved)),
        },
      };
    },

    /**
     * Daily usage from `from` to `to` ('YYYY-MM-DD', UTC, both included;
     * default the last 30 days). Every day up to today has a point (zero when
     * nothing ran); past days come from `daily_usage`, today is computed live.
     * 400 when from > to or the span exceeds 92 days.
     */
    async usage(teamId: string, query: { from?: string | undefined; to?: string | undefined }): Promise<CapsuleUsage> {
      const today = utcDay(now());
      const to = query.to ?? today;
      const from = query.from ?? addDays(to, -(DEFAULT_USAGE_DAYS - 1));
      const span = daysBetween(from, to);
      if (span < 0) throw invalidRequest("from must not be after to");
      if (span + 1 > MAX_USAGE_DAYS) throw invalidRequest(`the range may span at most ${MAX_USAGE_DAYS} days`);

      const lastDay = to.localeCompare(today) < 0 ? to : today;
      const stored = new Map<string, DailyUsage>();
      if (from <= lastDay) {
        for (const row of await deps.usage.getRange(teamId, from, lastDay)) stored.set(row.day, row);
        if (lastDay === today) stored.set(today, await deps.usage.computeDay(teamId, today, sampleSeconds));
      }
      const points: CapsuleUsage["points"] = [];
      for (let day = from; day <= lastDay; day = addDays(day, 1)) {
        const row = stored.get(day);
        points.push({ date: day, cpu_minutes: row?.cpuMinutes ?? 0, ram_mb_minutes: row?.ramMbMinutes ?? 0 });
      }
      return { from, to, points };
    },
  };
}

/** What {@link createStatsService} returns. */
export type StatsService = ReturnType<typeof createStatsService>;
