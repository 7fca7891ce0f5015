/**
 * Hosts (machines running a host agent), their tags, and the load query the
 * scheduler places capsules with. Registration and refresh tokens are in
 * host-tokens.repo.ts.
 */
import type { Queryable } from "../db/database.js";
import { firstRow, onlyRow } from "../db/sql.js";

/** regular: platform capacity; byoc: a team's own machine. */
export type HostType = "regular" | "byoc";
/** Written by the control plane: pending → online ⇄ unreachable. draining/offline are reserved. */
export type HostStatus = "pending" | "online" | "unreachable" | "draining" | "offline";

/** A row of `hosts`. */
export interface Host {
  readonly id: string;
  readonly type: HostType;
  /** Owning team of a BYOC host; null for platform hosts. */
  readonly teamId: string | null;
  readonly provider: string;
  readonly availabilityZone: string;
  /** Filled in at registration ('' before). */
  readonly arch: string;
  readonly cpuCores: number;
  readonly memoryMb: number;
  readonly diskGb: number;
  /** ip:port the agent serves on ('' until registered). */
  readonly address: string;
  readonly status: HostStatus;
  readonly lastHeartbeatAt: Date | null;
  readonly metadata: Record<string, unknown>;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** hex SHA-256 of the DER of the host's current certificate ('' before registration). */
  readonly certFingerprint: string;
  readonly certExpiresAt: Date | null;
}

/** A host in the admin list, with its team's name ('' for platform hosts). */
export interface HostWithTeamName extends Host {
  readonly teamName: string;
}

/** An online host and what is placed on it, for the scheduler. */
export interface HostLoad {
  readonly id: string;
  readonly type: HostType;
  readonly teamId: string | null;
  readonly address: string;
  readonly cpuCores: number;
  readonly memoryMb: number;
  readonly diskGb: number;
  /** Sums over capsules pending or running on the host. */
  readonly runningVcpus: number;
  readonly runningMemoryMb: number;
  readonly runningDiskMb: number;
  /** Sums over paused capsules (their snapshots stay on the host). */
  readonly pausedMemoryMb: number;
  readonly pausedDiskMb: number;
}

/** What an agent reports when it registers. */
export interface HostRegistration {
  readonly arch: string;
  readonly cpuCores: number;
  readonly memoryMb: number;
  readonly diskGb: number;
  readonly address: string;
  readonly certFingerprint: string;
  readonly certExpiresAt: Date;
}

const COLUMNS = `h.id, h.type, h.team_id AS "teamId", h.provider, h.availability_zone AS "availabilityZone", h.arch,
  h.cpu_cores AS "cpuCores", h.memory_mb AS "memoryMb", h.disk_gb AS "diskGb", h.address, h.status,
  h.last_heartbeat_at AS "lastHeartbeatAt", h.metadata, h.created_by AS "createdBy", h.created_at AS "createdAt",
  h.updated_at AS "updatedAt", h.cert_fingerprint AS "certFingerprint", h.cert_expires_at AS "certExpiresAt"`;

/** Repository of `hosts` and `host_tags`. Pass the database or a transaction. */
export function createHostsRepo(db: Queryable) {
  return {
    /** Creates a pending host. Throws a CHECK violation (`hosts_byoc_team_check`) for a BYOC host without a team. */
    async insert(host: {
      type: HostType;
      teamId: string | null;
      provider?: string;
      availabilityZone?: string;
      createdBy: string | null;
    }): Promise<Host> {
      const result = await db.query<Host>(
        `INSERT INTO hosts AS h (type, team_id, provider, availability_zone, created_by) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${COLUMNS}`,
        [host.type, host.teamId, host.provider ?? "", host.availabilityZone ?? "", host.createdBy],
      );
      return onlyRow(result);
    },

    async getById(id: string): Promise<Host | undefined> {
      return firstRow(await db.query<Host>(`SELECT ${COLUMNS} FROM hosts h WHERE h.id = $1`, [id]));
    },

    /** Every host with its team's name, oldest first (platform admins). */
    async listAll(): Promise<HostWithTeamName[]> {
      const result = await db.query<HostWithTeamName>(
        `SELECT ${COLUMNS}, COALESCE(t.name, '') AS "teamName" FROM hosts h LEFT JOIN teams t ON t.id = h.team_id
         ORDER BY h.created_at, h.id`,
      );
      return result.rows;
    },

    /** A team's BYOC hosts, oldest first. */
    async listByTeam(teamId: string): Promise<Host[]> {
      const result = await db.query<Host>(
        `SELECT ${COLUMNS} FROM hosts h WHERE h.team_id = $1 ORDER BY h.created_at, h.id`,
        [teamId],
      );
      return result.rows;
    },

    /**
     * Completes registration: stores the agent's specs, address and
     * certificate and marks it online, only if the host is still pending (so a
     * registration token cannot re-register a live host). Undefined otherwise.
     */
    async register(id: string, agent: HostRegistration): Promise<Host | undefined> {
      const result = await db.query<Host>(
        `UPDATE hosts h SET arch = $2, cpu_cores = $3, memory_mb = $4, disk_gb = $5, address = $6,
           cert_fingerprint = $7, cert_expires_at = $8, status = 'online', last_heartbeat_at = now(), updated_at = now()
         WHERE h.id = $1 AND h.status = 'pending'
         RETURNING ${COLUMNS}`,
        [
          id,
          agent.arch,
          agent.cpuCores,
          agent.memoryMb,
          agent.diskGb,
          agent.address,
          agent.certFingerprint,
          agent.certExpiresAt,
        ],
      );
      return firstRow(result);
    },

    /**
     * Records a heartbeat now; an unreachable host comes back online. Returns
     * the status before and after (so the caller can log "marked up"), or
     * undefined when the host does not exist.
     */
    async heartbeat(id: string): Promise<{ previousStatus: HostStatus; status: HostStatus } | undefined> {
      const result = await db.query<{ previousStatus: HostStatus; status: HostStatus }>(
        `UPDATE hosts h SET last_heartbeat_at = now(), updated_at = now(),
           status = CASE WHEN old.status = 'unreachable' THEN 'online' ELSE old.status END
         FROM (SELECT id, status FROM hosts WHERE id = $1 FOR UPDATE) old
         WHERE h.id = old.id
         RETURNING old.status AS "previousStatus", h.status`,
        [id],
      );
      return firstRow(result);
    },

    /** online → unreachable (heartbeats stopped). False when it was not online. */
    async markUnreachable(id: string): Promise<boolean> {
      const result = await db.query(
        "UPDATE hosts SET status = 'unreachable', updated_at = now() WHERE id = $1 AND status = 'online'",
        [id],
      );
      return result.rowCount === 1;
    },

    /** Hosts the monitor checks: everything registered and not offline. */
    async listActive(): Promise<Host[]> {
      const result = await db.query<Host>(
        `SELECT ${COLUMNS} FROM hosts h WHERE h.status NOT IN ('pending', 'offline') ORDER BY h.created_at, h.id`,
      );
      return result.rows;
    },

    /** Online hosts with an address and the resources their capsules hold (the scheduler's input). */
    async listWithLoad(): Promise<HostLoad[]> {
      const result = await db.query<HostLoad>(
        `SELECT h.id, h.type, h.team_id AS "teamId", h.address, h.cpu_cores AS "cpuCores", h.memory_mb AS "memoryMb",
           h.disk_gb AS "diskGb",
           COALESCE(sum(s.vcpus) FILTER (WHERE s.status IN ('pending', 'running')), 0) AS "runningVcpus",
           COALESCE(sum(s.memory_mb) FILTER (WHERE s.status IN ('pending', 'running')), 0) AS "runningMemoryMb",
           COALESCE(sum(s.disk_size_mb) FILTER (WHERE s.status IN ('pending', 'running')), 0) AS "runningDiskMb",
           COALESCE(sum(s.memory_mb) FILTER (WHERE s.status = 'paused'), 0) AS "pausedMemoryMb",
           COALESCE(sum(s.disk_size_mb) FILTER (WHERE s.status = 'paused'), 0) AS "pausedDiskMb"
         FROM hosts h
         LEFT JOIN sandboxes s ON s.host_id = h.id AND s.status IN ('pending', 'running', 'paused')
         WHERE h.status = 'online' AND h.address <> ''
         GROUP BY h.id
         ORDER BY h.created_at, h.id`,
      );
      return result.rows;
    },

    /** Stores the fingerprint and expiry of a host's renewed certificate. */
    async updateCertificate(id: string, certFingerprint: string, certExpiresAt: Date): Promise<boolean> {
      const result = await db.query(
        "UPDATE hosts SET cert_fingerprint = $2, cert_expires_at = $3, updated_at = now() WHERE id = $1",
        [id, certFingerprint, certExpiresAt],
      );
      return result.rowCount === 1;
    },

    /** Deletes a host; its tags, registration records and refresh tokens cascade. Capsule rows stay. */
    async delete(id: string): Promise<boolean> {
      return (await db.query("DELETE FROM hosts WHERE id = $1", [id])).rowCount === 1;
    },

    /** Adds a tag (no-op when present). Throws a foreign-key violation for an unknown host. */
    async addTag(hostId: string, tag: string): Promise<void> {
      await db.query("INSERT INTO host_tags (host_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", [hostId, tag]);
    },

    /** Removes a tag; false when the host did not have it. */
    async removeTag(hostId: string, tag: string): Promise<boolean> {
      return (await db.query("DELETE FROM host_tags WHERE host_id = $1 AND tag = $2", [hostId, tag])).rowCount === 1;
    },

    /** The host's tags, sorted. */
    async listTags(hostId: string): Promise<string[]> {
      const result = await db.query<{ tag: string }>("SELECT tag FROM host_tags WHERE host_id = $1 ORDER BY tag", [
        hostId,
      ]);
      return result.rows.map((r) => r.tag);
    },
  };
}

/** What `createHostsRepo` returns. */
export type HostsRepo = ReturnType<typeof createHostsRepo>;
