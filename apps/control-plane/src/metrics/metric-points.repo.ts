/**
 * A capsule's persisted metric ring buffers (`sandbox_metric_points`): the
 * host agent keeps three tiers in memory while the capsule runs; they are
 * written here on pause (all tiers) and destroy (24h only) so charts survive.
 */
import type { Queryable } from "../db/database.js";

/** 10m: 10 minutes of fine samples; 2h: 30 s averages; 24h: 5 min averages. */
export type MetricTier = "10m" | "2h" | "24h";

/** One sample. */
export interface MetricPoint {
  /** Unix seconds. */
  readonly ts: number;
  readonly cpuPct: number;
  readonly memBytes: number;
  readonly diskBytes: number;
}

/** Repository of `sandbox_metric_points`. Pass the database or a transaction. */
export function createMetricPointsRepo(db: Queryable) {
  return {
    /**
     * Stores points of one tier in one statement; points already stored (same
     * capsule, tier and second) are kept, not duplicated. Returns how many were new.
     */
    async insertPoints(sandboxId: string, tier: MetricTier, points: readonly MetricPoint[]): Promise<number> {
      if (points.length === 0) return 0;
      const result = await db.query(
        `INSERT INTO sandbox_metric_points (sandbox_id, tier, ts, cpu_pct, mem_bytes, disk_bytes)
         SELECT $1, $2, p.ts, p.cpu, p.mem, p.disk
         FROM unnest($3::bigint[], $4::float8[], $5::bigint[], $6::bigint[]) AS p (ts, cpu, mem, disk)
         ON CONFLICT (sandbox_id, tier, ts) DO NOTHING`,
        [
          sandboxId,
          tier,
          points.map((p) => p.ts),
          points.map((p) => p.cpuPct),
          points.map((p) => p.memBytes),
          points.map((p) => p.diskBytes),
        ],
      );
      return result.rowCount;
    },

    /** Points of a tier from `sinceTs` (Unix seconds, inclusive), oldest first. */
    async getPoints(sandboxId: string, tier: MetricTier, sinceTs: number): Promise<MetricPoint[]> {
      const result = await db.query<MetricPoint>(
        `SELECT ts, cpu_pct AS "cpuPct", mem_bytes AS "memBytes", disk_bytes AS "diskBytes"
         FROM sandbox_metric_points WHERE sandbox_id = $1 AND tier = $2 AND ts >= $3 ORDER BY ts`,
        [sandboxId, tier, sinceTs],
      );
      return result.rows;
    },

    /** Deletes the capsule's points of the given tiers; returns how many. */
    async deleteTiers(sandboxId: string, tiers: readonly MetricTier[]): Promise<number> {
      const result = await db.query(
        "DELETE FROM sandbox_metric_points WHERE sandbox_id = $1 AND tier = ANY($2::text[])",
        [sandboxId, tiers],
      );
      return result.rowCount;
    },

    /** Deletes the points of every capsule of a team (team deleted); returns how many. */
    async deleteByTeam(teamId: string): Promise<number> {
      const result = await db.query(
        "DELETE FROM sandbox_metric_points WHERE sandbox_id IN (SELECT id FROM sandboxes WHERE team_id = $1)",
        [teamId],
      );
      return result.rowCount;
    },
  };
}

/** What `createMetricPointsRepo` returns. */
export type MetricPointsRepo = ReturnType<typeof createMetricPointsRepo>;
