/**
 * Team API keys (`team_api_keys`). Only the SHA-256 of a key is stored; the
 * plaintext is shown once at creation, so lookups are by hash.
 */
import type { Queryable } from "../db/database.js";
import { firstRow, onlyRow } from "../db/sql.js";

/** A row of `team_api_keys`. */
export interface ApiKey {
  readonly id: string;
  readonly teamId: string;
  readonly name: string;
  /** First characters of the plaintext (`wrn_ab12cd`), to recognise a key in lists. */
  readonly keyPrefix: string;
  /** The user who made it; null once that user is purged. */
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly lastUsed: Date | null;
}

/** A key in the team's key list, with its creator's address ('' when the creator is gone). */
export interface ApiKeyWithCreator extends ApiKey {
  readonly creatorEmail: string;
}

const COLUMNS = `k.id, k.team_id AS "teamId", k.name, k.key_prefix AS "keyPrefix", k.created_by AS "createdBy",
  k.created_at AS "createdAt", k.last_used AS "lastUsed"`;

/**
 * `last_used` is written at most once a minute per key: it is shown to the
 * minute, and a write on every request would turn each API call into a row
 * update (and WAL traffic) for no information.
 */
const LAST_USED_RESOLUTION = "1 minute";

/** Repository of `team_api_keys`. Pass the database or a transaction. */
export function createApiKeysRepo(db: Queryable) {
  return {
    /** Stores a key by hash. Throws a unique violation on `team_api_keys_key_hash_key` for a duplicate hash. */
    async insert(key: {
      teamId: string;
      name: string;
      keyHash: string;
      keyPrefix: string;
      createdBy: string | null;
    }): Promise<ApiKey> {
      const result = await db.query<ApiKey>(
        `INSERT INTO team_api_keys AS k (team_id, name, key_hash, key_prefix, created_by) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${COLUMNS}`,
        [key.teamId, key.name, key.keyHash, key.keyPrefix, key.createdBy],
      );
      return onlyRow(result);
    },

    /** The key with this hash, if its team is live (authentication of `X-API-Key`). */
    async getByHash(keyHash: string): Promise<ApiKey | undefined> {
      return firstRow(
        await db.query<ApiKey>(
          `SELECT ${COLUMNS} FROM team_api_keys k JOIN teams t ON t.id = k.team_id
           WHERE k.key_hash = $1 AND t.deleted_at IS NULL`,
          [keyHash],
        ),
      );
    },

    /** The team's key with this id (revocation checks who created it). */
    async getForTeam(teamId: string, id: string): Promise<ApiKey | undefined> {
      return firstRow(
        await db.query<ApiKey>(`SELECT ${COLUMNS} FROM team_api_keys k WHERE k.id = $1 AND k.team_id = $2`, [
          id,
          teamId,
        ]),
      );
    },

    /** Records a use now, unless one was recorded within the last minute. */
    async touchLastUsed(id: string): Promise<void> {
      await db.query(
        `UPDATE team_api_keys SET last_used = now()
         WHERE id = $1 AND (last_used IS NULL OR last_used < now() - interval '${LAST_USED_RESOLUTION}')`,
        [id],
      );
    },

    /** The team's keys with their creators' addresses, newest first. */
    async listByTeamWithCreator(teamId: string): Promise<ApiKeyWithCreator[]> {
      const result = await db.query<ApiKeyWithCreator>(
        `SELECT ${COLUMNS}, COALESCE(u.email, '') AS "creatorEmail"
         FROM team_api_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.team_id = $1 ORDER BY k.created_at DESC, k.id`,
        [teamId],
      );
      return result.rows;
    },

    /** Deletes one of the team's keys; false when the team has no such key. */
    async delete(teamId: string, id: string): Promise<boolean> {
      const result = await db.query("DELETE FROM team_api_keys WHERE id = $1 AND team_id = $2", [id, teamId]);
      return result.rowCount === 1;
    },

    /** Deletes every key a user created (user disabled or deleted); returns how many. */
    async deleteByCreator(userId: string): Promise<number> {
      return (await db.query("DELETE FROM team_api_keys WHERE created_by = $1", [userId])).rowCount;
    },

    /** Deletes the keys a user created for one team (the user left or was removed); returns how many. */
    async deleteByCreatorInTeam(teamId: string, userId: string): Promise<number> {
      const result = await db.query("DELETE FROM team_api_keys WHERE team_id = $1 AND created_by = $2", [
        teamId,
        userId,
      ]);
      return result.rowCount;
    },

    /** Deletes every key of a team (team deleted); returns how many. */
    async deleteByTeam(teamId: string): Promise<number> {
      return (await db.query("DELETE FROM team_api_keys WHERE team_id = $1", [teamId])).rowCount;
    },
  };
}

/** What `createApiKeysRepo` returns. */
export type ApiKeysRepo = ReturnType<typeof createApiKeysRepo>;
