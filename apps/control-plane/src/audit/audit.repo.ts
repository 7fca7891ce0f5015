/**
 * The audit log (`audit_logs`): append-only entries per team, read newest
 * first with keyset pagination on (created_at, id).
 *
 * The cursor carries `created_at` with microsecond precision, as a string.
 * The reference cut it to whole seconds (Appendix B.8), and a JavaScript Date
 * keeps only milliseconds: either way, entries sharing the boundary's
 * truncated time but older than it by microseconds would be skipped.
 */
import type { Queryable } from "../db/database.js";
import { json, onlyRow } from "../db/sql.js";

export type AuditActorType = "user" | "api_key" | "system";
/** team: shown to every member; admin: to team owners/admins and platform admins. */
export type AuditScope = "team" | "admin";
export type AuditStatus = "success" | "info" | "warning" | "error";

/** A row of `audit_logs`. */
export interface AuditLog {
  readonly id: string;
  readonly teamId: string;
  readonly actorType: AuditActorType;
  /** Prefixed id (`usr-…`, `key-…`); null for system actors and anonymised users. */
  readonly actorId: string | null;
  readonly actorName: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly action: string;
  readonly scope: AuditScope;
  readonly status: AuditStatus;
  readonly metadata: Record<string, unknown>;
  readonly createdAt: Date;
}

/** Fields of a new entry. */
export interface NewAuditLog {
  readonly teamId: string;
  readonly actorType: AuditActorType;
  readonly actorId?: string | null;
  /** @default '' */
  readonly actorName?: string;
  readonly resourceType: string;
  readonly resourceId?: string | null;
  readonly action: string;
  /** @default 'team' */
  readonly scope?: AuditScope;
  /** @default 'success' */
  readonly status?: AuditStatus;
  /** @default {} */
  readonly metadata?: Record<string, unknown>;
}

/**
 * Where the next page starts: strictly older than this entry. `before` is
 * `created_at` as RFC 3339 UTC with microseconds (`2026-01-02T03:04:05.123456Z`);
 * pass it back unchanged (the API exposes it as `next_before`).
 */
export interface AuditCursor {
  readonly before: string;
  readonly beforeId: string;
}

/** Filters and page size of `list`. */
export interface AuditQuery {
  readonly teamId: string;
  /** Scopes the reader may see; at least one. */
  readonly scopes: readonly AuditScope[];
  /** Only these resource types; empty or absent = all. */
  readonly resourceTypes?: readonly string[];
  /** Only these actions; empty or absent = all. */
  readonly actions?: readonly string[];
  /** Continue after this entry; absent = newest first. Must come from a previous page. */
  readonly cursor?: AuditCursor;
  /** Page size (the API allows 1..200). */
  readonly limit: number;
}

/** One page, newest first; `next` is set when older entries remain. */
export interface AuditPage {
  readonly items: AuditLog[];
  readonly next: AuditCursor | undefined;
}

const COLUMNS = `id, team_id AS "teamId", actor_type AS "actorType", actor_id AS "actorId", actor_name AS "actorName",
  resource_type AS "resourceType", resource_id AS "resourceId", action, scope, status, metadata,
  created_at AS "createdAt"`;

/** `created_at` rendered exactly (microseconds, UTC) for the cursor. */
const EXACT_CREATED_AT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Repository of `audit_logs`. Pass the database or a transaction. */
export function createAuditRepo(db: Queryable) {
  return {
    /** Appends an entry. */
    async insert(entry: NewAuditLog): Promise<AuditLog> {
      const result = await db.query<AuditLog>(
        `INSERT INTO audit_logs (team_id, actor_type, actor_id, actor_name, resource_type, resource_id, action, scope,
           status, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
         RETURNING ${COLUMNS}`,
        [
          entry.teamId,
          entry.actorType,
          entry.actorId ?? null,
          entry.actorName ?? "",
          entry.resourceType,
          entry.resourceId ?? null,
          entry.action,
          entry.scope ?? "team",
          entry.status ?? "success",
          json(entry.metadata ?? {}),
        ],
      );
      return onlyRow(result);
    },

    /** A page of a team's entries, newest first; see `AuditQuery` and `AuditCursor`. */
    async list(query: AuditQuery): Promise<AuditPage> {
      const result = await db.query<AuditLog & { exactCreatedAt: string }>(
        `SELECT ${COLUMNS}, ${EXACT_CREATED_AT} AS "exactCreatedAt"
         FROM audit_logs
         WHERE team_id = $1 AND scope = ANY($2::text[])
           AND (cardinality($3::text[]) = 0 OR resource_type = ANY($3::text[]))
           AND (cardinality($4::text[]) = 0 OR action = ANY($4::text[]))
           AND ($5::timestamptz IS NULL OR (created_at, id) < ($5::timestamptz, $6::uuid))
         ORDER BY created_at DESC, id DESC
         LIMIT $7`,
        [
          query.teamId,
          query.scopes,
          query.resourceTypes ?? [],
          query.actions ?? [],
          query.cursor?.before ?? null,
          query.cursor?.beforeId ?? null,
          // One extra row tells whether another page exists.
          query.limit + 1,
        ],
      );
      const rows = result.rows.slice(0, query.limit);
      const last = rows.at(-1);
      const next =
        result.rows.length > query.limit && last ? { before: last.exactCreatedAt, beforeId: last.id } : undefined;
      return { items: rows.map(({ exactCreatedAt: _, ...item }) => item), next };
    },

    /**
     * Removes a purged user from the log: entries they made keep no id and
     * read `deleted-user`; `member` entries about them lose the id and the
     * email in their metadata. Returns how many entries changed of each kind.
     * Idempotent: run it again if it fails half way.
     */
    async anonymizeUser(prefixedUserId: string): Promise<{ asActor: number; asMember: number }> {
      const asActor = await db.query(
        "UPDATE audit_logs SET actor_id = NULL, actor_name = 'deleted-user' WHERE actor_id = $1",
        [prefixedUserId],
      );
      const asMember = await db.query(
        `UPDATE audit_logs SET resource_id = NULL, metadata = metadata - 'email'
         WHERE resource_type = 'member' AND resource_id = $1`,
        [prefixedUserId],
      );
      return { asActor: asActor.rowCount, asMember: asMember.rowCount };
    },
  };
}

/** What `createAuditRepo` returns. */
export type AuditRepo = ReturnType<typeof createAuditRepo>;
