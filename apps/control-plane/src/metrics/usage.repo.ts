/**
 * Daily usage (`daily_usage`): CPU minutes and RAM MB-minutes per team and
 * UTC day, computed from the team samples in `sandbox_metrics_snapshots`.
 *
 * Each sample stands for one sampling period, so a day's usage is
 * Σ reserved × period / 60. The period is a parameter (the reference
 * hard-coded 10 s, Appendix B.12), and rolling up a day is an idempotent
 * upsert, so a worker can recompute several past days after downtime.
 */
import type { Queryable } from "../db/database.js";
import { onlyRow } from "../db/sql.js";

/** Usage of one team on one UTC day. */
export interface DailyUsage {
  /** 'YYYY-MM-DD' (UTC). */
  readonly day: string;
  readonly cpuMinutes: number;
  readonly ramMbMinutes: number;
}

/** The sampler's period (10 s). */
export const DEFAULT_SAMPLE_SECONDS = 10;

/** Samples of the UTC day $DAY (a 'YYYY-MM-DD' parameter). */
const IN_DAY = (day: string) =>
  `sampled_at >= (${day}::date)::timestamp AT TIME ZONE 'UTC' AND sampled_at < (${day}::date + 1)::timestamp AT TIME ZONE 'UTC'`;

/** Repository of `daily_usage`. Pass the database or a transaction. */
export function createUsageRepo(db: Queryable) {
  return {
    /** Teams with samples in the last `days` days (those worth rolling up). @default days 93 */
    async listTeamsWithSamples(days = 93): Promise<string[]> {
      const result = await db.query<{ teamId: string }>(
        `SELECT DISTINCT team_id AS "teamId" FROM sandbox_metrics_snapshots
         WHERE sampled_at >= now() - make_interval(days => $1) ORDER BY 1`,
        [days],
      );
      return result.rows.map((r) => r.teamId);
    },

    /** A team's usage on `day` computed from its samples now (today's live value), rounded like stored days. */
    async computeDay(teamId: string, day: string, sampleSeconds = DEFAULT_SAMPLE_SECONDS): Promise<DailyUsage> {
      const result = await db.query<DailyUsage>(
        `SELECT $2::date::text AS day,
           round((COALESCE(sum(vcpus_reserved), 0) * $3::numeric / 60), 4)::float8 AS "cpuMinutes",
           round((COALESCE(sum(memory_mb_reserved), 0) * $3::numeric / 60), 4)::float8 AS "ramMbMinutes"
         FROM sandbox_metrics_snapshots WHERE team_id = $1 AND ${IN_DAY("$2")}`,
        [teamId, day, sampleSeconds],
      );
      return onlyRow(result);
    },

    /** Stores a team's usage for a day (replacing what was there). */
    async upsertDay(teamId: string, usage: DailyUsage): Promise<void> {
      await db.query(
        `INSERT INTO daily_usage (team_id, day, cpu_minutes, ram_mb_minutes) VALUES ($1, $2::date, $3, $4)
         ON CONFLICT (team_id, day) DO UPDATE SET cpu_minutes = EXCLUDED.cpu_minutes,
           ram_mb_minutes = EXCLUDED.ram_mb_minutes`,
        [teamId, usage.day, usage.cpuMinutes, usage.ramMbMinutes],
      );
    },

    /**
     * Computes and stores `day` for every team with samples that day, in one
     * statement. Returns the number of teams. Idempotent.
     */
    async rollupDay(day: string, sampleSeconds = DEFAULT_SAMPLE_SECONDS): Promise<number> {
      const result = await db.query(
        `INSERT INTO daily_usage (team_id, day, cpu_minutes, ram_mb_minutes)
         SELECT team_id, $1::date, sum(vcpus_reserved) * $2::numeric / 60, sum(memory_mb_reserved) * $2::numeric / 60
         FROM sandbox_metrics_snapshots WHERE ${IN_DAY("$1")}
         GROUP BY team_id
         ON CONFLICT (team_id, day) DO UPDATE SET cpu_minutes = EXCLUDED.cpu_minutes,
           ram_mb_minutes = EXCLUDED.ram_mb_minutes`,
        [day, sampleSeconds],
      );
      return result.rowCount;
    },

    /**
     * UTC days before `beforeDay` ('YYYY-MM-DD') that have samples but come
     * after the newest day already in `daily_usage` (every sampled day when
     * none is): what a rollup has to compute, oldest first. Catches up after
     * downtime across day boundaries (the reference only did yesterday, B.12).
     */
    async listDaysToRollUp(beforeDay: string): Promise<string[]> {
      const result = await db.query<{ day: string }>(
        `SELECT DISTINCT (sampled_at AT TIME ZONE 'UTC')::date::text AS day
         FROM sandbox_metrics_snapshots
         WHERE sampled_at < ($1::date)::timestamp AT TIME ZONE 'UTC'
           AND sampled_at >= COALESCE(((SELECT max(day) FROM daily_usage) + 1)::timestamp AT TIME ZONE 'UTC', '-infinity')
         ORDER BY 1`,
        [beforeDay],
      );
      return result.rows.map((r) => r.day);
    },

    /** Stored days of a team from `from` to `to` inclusive ('YYYY-MM-DD'), oldest first; days without a row are absent. */
    async getRange(teamId: string, from: string, to: string): Promise<DailyUsage[]> {
      const result = await db.query<DailyUsage>(
        `SELECT day::text AS day, cpu_minutes::float8 AS "cpuMinutes", ram_mb_minutes::float8 AS "ramMbMinutes"
         FROM daily_usage WHERE team_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day`,
        [teamId, from, to],
      );
      return result.rows;
    },

    /** Deletes a team's usage rows; returns how many. */
    async deleteByTeam(teamId: string): Promise<number> {
      return (await db.query("DELETE FROM daily_usage WHERE team_id = $1", [teamId])).rowCount;
    },
  };
}

/** What `createUsageRepo` returns. */
export type UsageRepo = ReturnType<typeof createUsageRepo>;
