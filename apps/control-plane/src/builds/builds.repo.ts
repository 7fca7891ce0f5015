/**
 * Template builds (`template_builds`), which are also the build queue that
 * replaces the reference's Redis list: workers claim the oldest pending build
 * with FOR UPDATE SKIP LOCKED, so any control-plane replica can run any build
 * and no build runs twice. Inserts NOTIFY `BUILD_QUEUE_CHANNEL` so idle
 * workers wake at once; they also poll.
 *
 * Status: pending → running → success | failed, and pending/running →
 * cancelled. Terminal states are final: every transition names the states it
 * may leave, so a cancel racing a completion cannot overwrite it.
 */
import type { Queryable } from "../db/database.js";
import { firstRow, json, onlyRow } from "../db/sql.js";

/** NOTIFY channel announcing a new pending build; the payload is its id. */
export const BUILD_QUEUE_CHANNEL = "wrenn_build_queue";

export type BuildStatus = "pending" | "running" | "success" | "failed" | "cancelled";

/** One executed step, as the builder logs it (stored as given, JSON). */
export interface BuildLogEntry {
  readonly step: number;
  readonly phase: string;
  readonly cmd: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exit: number;
  readonly ok: boolean;
  readonly elapsedMs: number;
}

/** A row of `template_builds`. */
export interface TemplateBuild {
  readonly id: string;
  readonly name: string;
  readonly baseTemplate: string;
  readonly recipe: string[];
  readonly healthcheck: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly status: BuildStatus;
  readonly currentStep: number;
  readonly totalSteps: number;
  readonly logs: BuildLogEntry[];
  readonly error: string;
  readonly sandboxId: string | null;
  readonly hostId: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  /** Id the resulting template gets. */
  readonly templateId: string;
  readonly teamId: string;
  readonly skipPrePost: boolean;
  readonly defaultUser: string;
  readonly defaultEnv: Record<string, string>;
  readonly metadata: Record<string, string>;
  /** Worker running it ('' while pending). */
  readonly claimedBy: string;
  /** Last sign of life from that worker. */
  readonly heartbeatAt: Date | null;
}

/** Fields of a new build. */
export interface NewBuild {
  readonly name: string;
  /** @default 'minimal' */
  readonly baseTemplate?: string;
  readonly recipe: readonly string[];
  /** @default '' (no healthcheck: the result is a base template) */
  readonly healthcheck?: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly totalSteps: number;
  /** @default false */
  readonly skipPrePost?: boolean;
}

const COLUMNS = `id, name, base_template AS "baseTemplate", recipe, healthcheck, vcpus, memory_mb AS "memoryMb", status,
  current_step AS "currentStep", total_steps AS "totalSteps", logs, error, sandbox_id AS "sandboxId",
  host_id AS "hostId", created_at AS "createdAt", started_at AS "startedAt", completed_at AS "completedAt",
  template_id AS "templateId", team_id AS "teamId", skip_pre_post AS "skipPrePost", default_user AS "defaultUser",
  default_env AS "defaultEnv", metadata, claimed_by AS "claimedBy", heartbeat_at AS "heartbeatAt"`;

/** Repository of `template_builds` and `template_build_archives`. Pass the database or a transaction. */
export function createBuildsRepo(db: Queryable) {
  return {
    /** Queues a build (status pending) and NOTIFYs `BUILD_QUEUE_CHANNEL` (on commit inside a transaction). */
    async insert(build: NewBuild): Promise<TemplateBuild> {
      const result = await db.query<TemplateBuild>(
        `INSERT INTO template_builds (name, base_template, recipe, healthcheck, vcpus, memory_mb, total_steps,
           skip_pre_post)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [
          build.name,
          build.baseTemplate ?? "minimal",
          json(build.recipe),
          build.healthcheck ?? "",
          build.vcpus,
          build.memoryMb,
          build.totalSteps,
          build.skipPrePost ?? false,
        ],
      );
      const row = onlyRow(result);
      await db.notify(BUILD_QUEUE_CHANNEL, row.id);
      return row;
    },

    async getById(id: string): Promise<TemplateBuild | undefined> {
      return firstRow(await db.query<TemplateBuild>(`SELECT ${COLUMNS} FROM template_builds WHERE id = $1`, [id]));
    },

    /** Every build, newest first. */
    async list(): Promise<TemplateBuild[]> {
      return (await db.query<TemplateBuild>(`SELECT ${COLUMNS} FROM template_builds ORDER BY created_at DESC, id`))
        .rows;
    },

    /**
     * Claims the oldest pending build for `workerId`: status running,
     * `startedAt` and heartbeat now. Builds locked by another claimer are
     * skipped, not waited for. Undefined when nothing is pending.
     */
    async claimNext(workerId: string): Promise<TemplateBuild | undefined> {
      const result = await db.query<TemplateBuild>(
        `WITH next AS MATERIALIZED (
           SELECT id AS next_id FROM template_builds WHERE status = 'pending'
           ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
         UPDATE template_builds SET status = 'running', claimed_by = $1, started_at = COALESCE(started_at, now()),
           heartbeat_at = now()
         FROM next WHERE id = next.next_id
         RETURNING ${COLUMNS}`,
        [workerId],
      );
      return firstRow(result);
    },

    /** Records the capsule the build runs in. */
    async setSandbox(id: string, sandboxId: string, hostId: string): Promise<boolean> {
      const result = await db.query(
        "UPDATE template_builds SET sandbox_id = $2, host_id = $3, heartbeat_at = now() WHERE id = $1",
        [id, sandboxId, hostId],
      );
      return result.rowCount === 1;
    },

    /** Appends a step's log entry and sets the current step, while the build is running (also a heartbeat). */
    async appendLog(id: string, currentStep: number, entry: BuildLogEntry): Promise<boolean> {
      const result = await db.query(
        `UPDATE template_builds SET logs = logs || jsonb_build_array($3::jsonb), current_step = $2,
           heartbeat_at = now()
         WHERE id = $1 AND status = 'running'`,
        [id, currentStep, json(entry)],
      );
      return result.rowCount === 1;
    },

    /** Stores what the resulting template will carry (captured user, environment, runtime versions). */
    async setDefaults(
      id: string,
      defaults: { defaultUser: string; defaultEnv: Record<string, string>; metadata?: Record<string, string> },
    ): Promise<boolean> {
      const result = await db.query(
        `UPDATE template_builds SET default_user = $2, default_env = $3::jsonb,
           metadata = COALESCE($4::jsonb, metadata), heartbeat_at = now()
         WHERE id = $1`,
        [id, defaults.defaultUser, json(defaults.defaultEnv), defaults.metadata ? json(defaults.metadata) : null],
      );
      return result.rowCount === 1;
    },

    /** running → success. */
    async complete(id: string): Promise<boolean> {
      const result = await db.query(
        "UPDATE template_builds SET status = 'success', completed_at = now() WHERE id = $1 AND status = 'running'",
        [id],
      );
      return result.rowCount === 1;
    },

    /** pending/running → failed with `error` (a message for the admin page). */
    async fail(id: string, error: string): Promise<boolean> {
      const result = await db.query(
        `UPDATE template_builds SET status = 'failed', error = $2, completed_at = now()
         WHERE id = $1 AND status IN ('pending', 'running')`,
        [id, error],
      );
      return result.rowCount === 1;
    },

    /** pending/running → cancelled; returns the status it left, or undefined when it had already ended. */
    async cancel(id: string): Promise<"pending" | "running" | undefined> {
      const result = await db.query<{ previous: "pending" | "running" }>(
        `UPDATE template_builds b SET status = 'cancelled', completed_at = now()
         FROM (SELECT id, status FROM template_builds WHERE id = $1 FOR UPDATE) old
         WHERE b.id = old.id AND old.status IN ('pending', 'running')
         RETURNING old.status AS previous`,
        [id],
      );
      return firstRow(result)?.previous;
    },

    /**
     * Fails running builds whose worker has not reported for `silenceSeconds`
     * (its control plane died mid-build). Returns their ids.
     */
    async failStale(silenceSeconds: number, error = "the build worker stopped responding"): Promise<string[]> {
      const result = await db.query<{ id: string }>(
        `UPDATE template_builds SET status = 'failed', error = $2, completed_at = now()
         WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) RETURNING id`,
        [silenceSeconds, error],
      );
      return result.rows.map((r) => r.id);
    },

    /** Stores the files uploaded with a build (replacing earlier ones). */
    async putArchive(buildId: string, content: Uint8Array): Promise<void> {
      await db.query(
        `INSERT INTO template_build_archives (build_id, content) VALUES ($1, $2)
         ON CONFLICT (build_id) DO UPDATE SET content = EXCLUDED.content`,
        [buildId, content],
      );
    },

    /** The files uploaded with a build, if any. */
    async getArchive(buildId: string): Promise<Uint8Array | undefined> {
      const row = firstRow(
        await db.query<{ content: Uint8Array }>("SELECT content FROM template_build_archives WHERE build_id = $1", [
          buildId,
        ]),
      );
      return row ? new Uint8Array(row.content) : undefined;
    },

    /** Drops a build's files once it has ended. */
    async deleteArchive(buildId: string): Promise<boolean> {
      return (await db.query("DELETE FROM template_build_archives WHERE build_id = $1", [buildId])).rowCount === 1;
    },
  };
}

/** What `createBuildsRepo` returns. */
export type BuildsRepo = ReturnType<typeof createBuildsRepo>;
