/**
 * Capsules (table `sandboxes`): the control plane's record of every capsule,
 * kept after it stops. The host agent is the source of truth for what runs;
 * these statuses are reconciled against it by the host monitor.
 *
 * Status life cycle (as written):
 *   pending  row inserted before the agent is asked to create it
 *   running  the agent reported it healthy (markRunning)
 *   paused   snapshot on its host's disk; resumes there
 *   missing  its host stopped heartbeating; back to running or stopped when it returns
 *   stopped  destroyed (rows are kept as history)
 *   error    creation failed
 */
import type { Queryable } from "../db/database.js";
import { firstRow, json, onlyRow } from "../db/sql.js";

/** See the module comment. */
export type CapsuleStatus = "pending" | "running" | "paused" | "stopped" | "error" | "missing";

/** A row of `sandboxes`. */
export interface Capsule {
  readonly id: string;
  readonly teamId: string;
  readonly hostId: string;
  /** Template name as requested. */
  readonly template: string;
  readonly status: CapsuleStatus;
  readonly vcpus: number;
  readonly memoryMb: number;
  /** Inactivity timeout in seconds; 0 = never auto-pause. */
  readonly timeoutSec: number;
  readonly diskSizeMb: number;
  readonly guestIp: string;
  readonly hostIp: string;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly lastActiveAt: Date | null;
  readonly lastUpdated: Date;
  readonly templateId: string | null;
  readonly templateTeamId: string | null;
  /** Runtime versions reported by the agent (kernel, VMM, agent, envd). */
  readonly metadata: Record<string, string>;
}

/** Fields of a capsule about to be created on `hostId`. */
export interface NewCapsule {
  /** @default a random UUID */
  readonly id?: string;
  readonly teamId: string;
  readonly hostId: string;
  readonly template: string;
  readonly templateId: string | null;
  readonly templateTeamId: string | null;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly timeoutSec: number;
  readonly diskSizeMb: number;
}

/** Where the port proxy sends a capsule's traffic. */
export interface CapsuleProxyTarget {
  readonly status: CapsuleStatus;
  readonly hostId: string;
  /** The host agent's ip:port; '' when the host is gone or never registered. */
  readonly hostAddress: string;
}

/** A capsule with the address of its host agent ('' when the host is gone or has none). */
export interface CapsuleWithHost extends Capsule {
  readonly hostAddress: string;
}

/** Capsules a team still has to think about: being created, running, paused or on an unreachable host. */
export const ACTIVE_CAPSULE_STATUSES: readonly CapsuleStatus[] = ["pending", "running", "paused", "missing"];

const COLUMNS = `id, team_id AS "teamId", host_id AS "hostId", template, status, vcpus, memory_mb AS "memoryMb",
  timeout_sec AS "timeoutSec", disk_size_mb AS "diskSizeMb", guest_ip AS "guestIp", host_ip AS "hostIp",
  created_at AS "createdAt", started_at AS "startedAt", last_active_at AS "lastActiveAt",
  last_updated AS "lastUpdated", template_id AS "templateId", template_team_id AS "templateTeamId", metadata`;

/** Repository of `sandboxes`. Pass the database or a transaction. */
export function createCapsulesRepo(db: Queryable) {
  return {
    /** Records a capsule in status `pending` before asking its host to create it. */
    async insertPending(capsule: NewCapsule): Promise<Capsule> {
      const result = await db.query<Capsule>(
        `INSERT INTO sandboxes (id, team_id, host_id, template, template_id, template_team_id, vcpus, memory_mb,
           timeout_sec, disk_size_mb, status)
         VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')
         RETURNING ${COLUMNS}`,
        [
          capsule.id ?? null,
          capsule.teamId,
          capsule.hostId,
          capsule.template,
          capsule.templateId,
          capsule.templateTeamId,
          capsule.vcpus,
          capsule.memoryMb,
          capsule.timeoutSec,
          capsule.diskSizeMb,
        ],
      );
      return onlyRow(result);
    },

    async getById(id: string): Promise<Capsule | undefined> {
      return firstRow(await db.query<Capsule>(`SELECT ${COLUMNS} FROM sandboxes WHERE id = $1`, [id]));
    },

    /** The capsule if it belongs to `teamId` (any status, stopped included). */
    async getForTeam(teamId: string, id: string): Promise<Capsule | undefined> {
      return firstRow(
        await db.query<Capsule>(`SELECT ${COLUMNS} FROM sandboxes WHERE id = $1 AND team_id = $2`, [id, teamId]),
      );
    },

    /**
     * {@link getForTeam} and its host agent's address in one query (the per-request lookup of
     * exec and file routes). `hostAddress` is '' when the host is gone or never registered.
     */
    async getForTeamWithHost(teamId: string, id: string): Promise<CapsuleWithHost | undefined> {
      return firstRow(
        await db.query<CapsuleWithHost>(
          `SELECT ${COLUMNS}, COALESCE((SELECT h.address FROM hosts h WHERE h.id = s.host_id), '') AS "hostAddress"
           FROM sandboxes s WHERE s.id = $1 AND s.team_id = $2`,
          [id, teamId],
        ),
      );
    },

    /** The team's capsules except stopped and failed ones, newest first (the capsule list). */
    async listForTeam(teamId: string): Promise<Capsule[]> {
      const result = await db.query<Capsule>(
        `SELECT ${COLUMNS} FROM sandboxes WHERE team_id = $1 AND status NOT IN ('stopped', 'error')
         ORDER BY created_at DESC, id`,
        [teamId],
      );
      return result.rows;
    },

    /** The team's capsules in `ACTIVE_CAPSULE_STATUSES` (to destroy when the team or its owner goes). */
    async listActiveForTeam(teamId: string): Promise<Capsule[]> {
      const result = await db.query<Capsule>(
        `SELECT ${COLUMNS} FROM sandboxes WHERE team_id = $1 AND status = ANY($2::text[]) ORDER BY created_at, id`,
        [teamId, ACTIVE_CAPSULE_STATUSES],
      );
      return result.rows;
    },

    /** Capsules on `hostId` in one of `statuses`, oldest first (reconciliation, host delete). */
    async listByHostAndStatus(hostId: string, statuses: readonly CapsuleStatus[]): Promise<Capsule[]> {
      const result = await db.query<Capsule>(
        `SELECT ${COLUMNS} FROM sandboxes WHERE host_id = $1 AND status = ANY($2::text[]) ORDER BY created_at, id`,
        [hostId, statuses],
      );
      return result.rows;
    },

    /**
     * The agent created or resumed the capsule: status running, addresses,
     * `startedAt` (also the last activity; default now) and, when given, the
     * agent's metadata. Undefined for an unknown id.
     */
    async markRunning(
      id: string,
      running: { hostIp: string; guestIp?: string; startedAt?: Date; metadata?: Record<string, string> },
    ): Promise<Capsule | undefined> {
      const result = await db.query<Capsule>(
        `UPDATE sandboxes SET status = 'running', host_ip = $2, guest_ip = $3,
           started_at = COALESCE($4::timestamptz, now()), last_active_at = COALESCE($4::timestamptz, now()),
           metadata = COALESCE($5::jsonb, metadata), last_updated = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          running.hostIp,
          running.guestIp ?? "",
          running.startedAt ?? null,
          running.metadata ? json(running.metadata) : null,
        ],
      );
      return firstRow(result);
    },

    /**
     * Moves the capsule to `to` only if its status is one of `from` (e.g. pause
     * marks running → paused before the RPC; a failed pause reverts). False
     * when the status was something else, so racing requests see who won.
     */
    async transition(id: string, from: readonly CapsuleStatus[], to: CapsuleStatus): Promise<boolean> {
      const result = await db.query(
        "UPDATE sandboxes SET status = $3, last_updated = now() WHERE id = $1 AND status = ANY($2::text[])",
        [id, from, to],
      );
      return result.rowCount === 1;
    },

    /** Sets the status unconditionally. */
    async setStatus(id: string, status: CapsuleStatus): Promise<boolean> {
      const result = await db.query("UPDATE sandboxes SET status = $2, last_updated = now() WHERE id = $1", [
        id,
        status,
      ]);
      return result.rowCount === 1;
    },

    /** Sets the status of every capsule in `ids`; returns how many rows changed. */
    async bulkSetStatus(ids: readonly string[], status: CapsuleStatus): Promise<number> {
      const result = await db.query(
        "UPDATE sandboxes SET status = $2, last_updated = now() WHERE id = ANY($1::uuid[])",
        [ids, status],
      );
      return result.rowCount;
    },

    /** The host stopped heartbeating: its pending and running capsules become missing. Returns their ids. */
    async markMissingByHost(hostId: string): Promise<string[]> {
      const result = await db.query<{ id: string }>(
        `UPDATE sandboxes SET status = 'missing', last_updated = now()
         WHERE host_id = $1 AND status IN ('pending', 'running') RETURNING id`,
        [hostId],
      );
      return result.rows.map((r) => r.id);
    },

    /** Missing capsules the returned host still runs go back to running; returns how many. */
    async restoreRunning(ids: readonly string[]): Promise<number> {
      const result = await db.query(
        `UPDATE sandboxes SET status = 'running', last_updated = now()
         WHERE id = ANY($1::uuid[]) AND status = 'missing'`,
        [ids],
      );
      return result.rowCount;
    },

    /** Records activity now (exec, ping…). */
    async touchLastActive(id: string): Promise<boolean> {
      const result = await db.query("UPDATE sandboxes SET last_active_at = now() WHERE id = $1", [id]);
      return result.rowCount === 1;
    },

    /** Replaces the agent-reported metadata. */
    async updateMetadata(id: string, metadata: Record<string, string>): Promise<boolean> {
      const result = await db.query("UPDATE sandboxes SET metadata = $2::jsonb, last_updated = now() WHERE id = $1", [
        id,
        json(metadata),
      ]);
      return result.rowCount === 1;
    },

    /** Status and host address of a capsule, for the port proxy. */
    async getProxyTarget(id: string): Promise<CapsuleProxyTarget | undefined> {
      return firstRow(
        await db.query<CapsuleProxyTarget>(
          `SELECT s.status, s.host_id AS "hostId", COALESCE(h.address, '') AS "hostAddress"
           FROM sandboxes s LEFT JOIN hosts h ON h.id = s.host_id WHERE s.id = $1`,
          [id],
        ),
      );
    },
  };
}

/** What `createCapsulesRepo` returns. */
export type CapsulesRepo = ReturnType<typeof createCapsulesRepo>;
