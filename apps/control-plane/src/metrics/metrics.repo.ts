/**
 * Team-level capsule metrics (`sandbox_metrics_snapshots`): one sample per
 * team every sampling period, the live numbers, 30-day peaks and the
 * bucketed series behind `GET /v1/capsules/stats`.
 *
 * Reserved memory counts a paused capsule at half its memory, rounded up, as
 * the reference does, so charts and usage numbers keep their meaning.
 */
import type { Queryable } from "../db/database.js";
import { onlyRow } from "../db/sql.js";

/** Reserved resources of a team at one moment. */
export interface TeamLoad {
  readonly runningCount: number;
  readonly vcpusReserved: number;
  readonly memoryMbReserved: number;
}

/** One point of the stats chart: the maximum of each value within the bucket. */
export interface TeamLoadPoint extends TeamLoad {
  /** Start of the bucket. */
  readonly bucket: Date;
}

/** `TeamLoad` columns computed from `sandboxes` rows (alias s). */
const LOAD_FROM_SANDBOXES = `
  count(*) FILTER (WHERE s.status = 'running') AS "runningCount",
  COALESCE(sum(s.vcpus) FILTER (WHERE s.status = 'running'), 0) AS "vcpusReserved",
  (COALESCE(sum(s.memory_mb) FILTER (WHERE s.status = 'running'), 0)
    + COALESCE(sum(ceil(s.memory_mb / 2.0)) FILTER (WHERE s.status = 'paused'), 0))::bigint AS "memoryMbReserved"`;

/** Repository of `sandbox_metrics_snapshots`. Pass the database or a transaction. */
export function createMetricsRepo(db: Queryable) {
  return {
    /**
     * Records one sample for every live team that has any capsule row, zeros
     * included (so charts stay continuous after the last capsule stops).
     * Returns the number of samples written.
     */
    async sampleTeams(): Promise<number> {
      const result = await db.query(
        `INSERT INTO sandbox_metrics_snapshots (team_id, running_count, vcpus_reserved, memory_mb_reserved)
         SELECT s.team_id, ${LOAD_FROM_SANDBOXES}
         FROM sandboxes s JOIN teams t ON t.id = s.team_id AND t.deleted_at IS NULL
         GROUP BY s.team_id`,
      );
      return result.rowCount;
    },

    /** The team's reserved resources now, computed from its capsules. */
    async getLive(teamId: string): Promise<TeamLoad> {
      return onlyRow(
        await db.query<TeamLoad>(`SELECT ${LOAD_FROM_SANDBOXES} FROM sandboxes s WHERE s.team_id = $1`, [teamId]),
      );
    },

    /** The highest sampled values over the last `days` days (zeros without samples). @default days 30 */
    async getPeak(teamId: string, days = 30): Promise<TeamLoad> {
      return onlyRow(
        await db.query<TeamLoad>(
          `SELECT COALESCE(max(running_count), 0) AS "runningCount", COALESCE(max(vcpus_reserved), 0) AS "vcpusReserved",
             COALESCE(max(memory_mb_reserved), 0) AS "memoryMbReserved"
           FROM sandbox_metrics_snapshots
           WHERE team_id = $1 AND sampled_at >= now() - make_interval(days => $2)`,
          [teamId, days],
        ),
      );
    },

    /**
     * Samples of the last `lookbackSeconds`, grouped in buckets of
     * `bucketSeconds` aligned on the Unix epoch, keeping each value's maximum
     * (a short spike stays visible at any zoom). Buckets without samples are
     * absent; oldest first.
     */
    async getSeries(
      teamId: string,
      range: { bucketSeconds: number; lookbackSeconds: number },
    ): Promise<TeamLoadPoint[]> {
      const result = await db.query<TeamLoadPoint>(
        `SELECT to_timestamp(floor(extract(epoch FROM sampled_at) / $2) * $2) AS bucket,
           max(running_count) AS "runningCount", max(vcpus_reserved) AS "vcpusReserved",
           max(memory_mb_reserved) AS "memoryMbReserved"
         FROM sandbox_metrics_snapshots
         WHERE team_id = $1 AND sampled_at >= now() - make_interval(secs => $3)
         GROUP BY 1 ORDER BY 1`,
        [teamId, range.bucketSeconds, range.lookbackSeconds],
      );
      return result.rows;
    },

    /** Deletes samples older than `retentionDays`; returns how many. @default retentionDays 60 */
    async pruneSamples(retentionDays = 60): Promise<number> {
      const result = await db.query(
        "DELETE FROM sandbox_metrics_snapshots WHERE sampled_at < now() - make_interval(days => $1)",
        [retentionDays],
      );
      return result.rowCount;
    },

    /** Deletes every sample of a team (team deleted); returns how many. */
    async deleteSamplesByTeam(teamId: string): Promise<number> {
      return (await db.query("DELETE FROM sandbox_metrics_snapshots WHERE team_id = $1", [teamId])).rowCount;
    },
  };
}

/** What `createMetricsRepo` returns. */
export type MetricsRepo = ReturnType<typeof createMetricsRepo>;
