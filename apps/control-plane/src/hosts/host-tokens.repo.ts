/**
 * Host credentials kept in the database: the audit trail of registration
 * tokens (`host_tokens`; the one-time tokens themselves are in
 * one_time_tokens, see tokens.repo.ts) and the refresh tokens agents trade for
 * a new JWT and certificate (`host_refresh_tokens`, stored as SHA-256).
 */
import type { Queryable } from "../db/database.js";
import { firstRow, onlyRow } from "../db/sql.js";

/** A registration token's audit row (the API shows its id as `htok-…`). */
export interface HostTokenRecord {
  readonly id: string;
  readonly hostId: string;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
}

const RECORD_COLUMNS = `id, host_id AS "hostId", created_by AS "createdBy", created_at AS "createdAt",
  expires_at AS "expiresAt", used_at AS "usedAt"`;

/** Repository of `host_tokens` and `host_refresh_tokens`. Pass the database or a transaction. */
export function createHostTokensRepo(db: Queryable) {
  return {
    /** Records that a registration token was issued for `hostId`, valid until `expiresAt`. */
    async insertRegistrationRecord(record: {
      hostId: string;
      createdBy: string | null;
      expiresAt: Date;
    }): Promise<HostTokenRecord> {
      const result = await db.query<HostTokenRecord>(
        `INSERT INTO host_tokens (host_id, created_by, expires_at) VALUES ($1, $2, $3) RETURNING ${RECORD_COLUMNS}`,
        [record.hostId, record.createdBy, record.expiresAt],
      );
      return onlyRow(result);
    },

    /** Marks a registration record used, once. */
    async markRegistrationUsed(id: string): Promise<boolean> {
      const result = await db.query("UPDATE host_tokens SET used_at = now() WHERE id = $1 AND used_at IS NULL", [id]);
      return result.rowCount === 1;
    },

    /** A host's registration records, newest first. */
    async listRegistrationRecords(hostId: string): Promise<HostTokenRecord[]> {
      const result = await db.query<HostTokenRecord>(
        `SELECT ${RECORD_COLUMNS} FROM host_tokens WHERE host_id = $1 ORDER BY created_at DESC, id`,
        [hostId],
      );
      return result.rows;
    },

    /** Stores a refresh token by hash. Throws a unique violation on `host_refresh_tokens_token_hash_key`. */
    async insertRefreshToken(token: { hostId: string; tokenHash: string; expiresAt: Date }): Promise<{ id: string }> {
      const result = await db.query<{ id: string }>(
        "INSERT INTO host_refresh_tokens (host_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id",
        [token.hostId, token.tokenHash, token.expiresAt],
      );
      return onlyRow(result);
    },

    /**
     * Spends a refresh token: revokes it and returns its host, in one
     * statement, only if it is neither revoked nor expired. Two agents (or a
     * replayed request) presenting the same token cannot both succeed.
     */
    async consumeRefreshToken(tokenHash: string): Promise<{ id: string; hostId: string } | undefined> {
      const result = await db.query<{ id: string; hostId: string }>(
        `UPDATE host_refresh_tokens SET revoked_at = now()
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
         RETURNING id, host_id AS "hostId"`,
        [tokenHash],
      );
      return firstRow(result);
    },

    /** Revokes every live refresh token of a host (host deleted or re-keyed); returns how many. */
    async revokeRefreshTokens(hostId: string): Promise<number> {
      const result = await db.query(
        "UPDATE host_refresh_tokens SET revoked_at = now() WHERE host_id = $1 AND revoked_at IS NULL",
        [hostId],
      );
      return result.rowCount;
    },
  };
}

/** What `createHostTokensRepo` returns. */
export type HostTokensRepo = ReturnType<typeof createHostTokensRepo>;
