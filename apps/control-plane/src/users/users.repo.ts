/**
 * Users: accounts, their status life cycle (inactive → active → disabled /
 * deleted → purged) and the queries behind signup, login, admin pages and
 * account deletion. Reads exclude soft-deleted users unless they say otherwise.
 */
import type { Queryable } from "../db/database.js";
import { escapeLike, firstRow, onlyRow } from "../db/sql.js";

/** inactive: awaiting email activation; deleted: soft-deleted, purged after a grace period. */
export type UserStatus = "inactive" | "active" | "disabled" | "deleted";

/** A row of `users`. */
export interface User {
  readonly id: string;
  readonly email: string;
  /** bcrypt hash; null for accounts that only sign in through OAuth. */
  readonly passwordHash: string | null;
  readonly name: string;
  readonly isAdmin: boolean;
  readonly status: UserStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly deletedAt: Date | null;
}

/** Fields of a new user; the rest take their defaults. */
export interface NewUser {
  /** @default a random UUID */
  readonly id?: string;
  readonly email: string;
  /** @default null (OAuth-only account) */
  readonly passwordHash?: string | null;
  /** @default '' */
  readonly name?: string;
  /** @default 'active'; signup uses 'inactive' until the email is confirmed */
  readonly status?: UserStatus;
  /** @default false */
  readonly isAdmin?: boolean;
}

/** A user as the admin user list shows it. */
export interface AdminUserRow {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly isAdmin: boolean;
  readonly status: UserStatus;
  readonly createdAt: Date;
  /** Live teams the user belongs to, and how many of those they own. */
  readonly teamsJoined: number;
  readonly teamsOwned: number;
}

const COLUMNS = `id, email, password_hash AS "passwordHash", name, is_admin AS "isAdmin", status,
  created_at AS "createdAt", updated_at AS "updatedAt", deleted_at AS "deletedAt"`;

/** Repository of `users`. Pass the database or a transaction. */
export function createUsersRepo(db: Queryable) {
  return {
    /** Inserts a user. Throws a unique violation on `users_email_key` when the address (any case) is taken. */
    async insert(user: NewUser): Promise<User> {
      const result = await db.query<User>(
        `INSERT INTO users (id, email, password_hash, name, status, is_admin)
         VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6)
         RETURNING ${COLUMNS}`,
        [
          user.id ?? null,
          user.email,
          user.passwordHash ?? null,
          user.name ?? "",
          user.status ?? "active",
          user.isAdmin ?? false,
        ],
      );
      return onlyRow(result);
    },

    /** The user with this id unless soft-deleted. */
    async getById(id: string): Promise<User | undefined> {
      return firstRow(await db.query<User>(`SELECT ${COLUMNS} FROM users WHERE id = $1 AND status <> 'deleted'`, [id]));
    },

    /** The user with this address (case-insensitive) unless soft-deleted. */
    async getByEmail(email: string): Promise<User | undefined> {
      return firstRow(
        await db.query<User>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1) AND status <> 'deleted'`, [
          email,
        ]),
      );
    },

    /** inactive → active. False when the user is missing or not inactive (already activated, disabled…). */
    async activate(id: string): Promise<boolean> {
      const result = await db.query(
        "UPDATE users SET status = 'active', updated_at = now() WHERE id = $1 AND status = 'inactive'",
        [id],
      );
      return result.rowCount === 1;
    },

    /** Sets `status` ('active' / 'disabled' from the admin API) of a user that is not soft-deleted. */
    async setStatus(id: string, status: Exclude<UserStatus, "deleted">): Promise<boolean> {
      const result = await db.query(
        "UPDATE users SET status = $2, updated_at = now() WHERE id = $1 AND status <> 'deleted'",
        [id, status],
      );
      return result.rowCount === 1;
    },

    /** Renames a user that is not soft-deleted. */
    async updateName(id: string, name: string): Promise<boolean> {
      const result = await db.query(
        "UPDATE users SET name = $2, updated_at = now() WHERE id = $1 AND status <> 'deleted'",
        [id, name],
      );
      return result.rowCount === 1;
    },

    /** Replaces the password hash of a user that is not soft-deleted. */
    async updatePasswordHash(id: string, passwordHash: string): Promise<boolean> {
      const result = await db.query(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 AND status <> 'deleted'",
        [id, passwordHash],
      );
      return result.rowCount === 1;
    },

    /** Makes a user a platform admin. */
    async grantAdmin(id: string): Promise<boolean> {
      const result = await db.query(
        "UPDATE users SET is_admin = true, updated_at = now() WHERE id = $1 AND status <> 'deleted'",
        [id],
      );
      return result.rowCount === 1;
    },

    /**
     * Revokes platform admin in one statement that also checks another live
     * admin remains, so two admins demoting each other at once cannot leave
     * none. False when the user is not an admin or is the last one.
     */
    async revokeAdmin(id: string): Promise<boolean> {
      const result = await db.query(
        `UPDATE users SET is_admin = false, updated_at = now()
         WHERE id = $1 AND is_admin
           AND (SELECT count(*) FROM users WHERE is_admin AND status <> 'deleted') > 1`,
        [id],
      );
      return result.rowCount === 1;
    },

    /**
     * Makes an active user a platform admin when no other user is active: the
     * first account of a new installation administers it. One statement, so
     * two accounts activated at once cannot both become admin this way.
     * False when another active user exists (or the user is not active).
     */
    async grantAdminIfOnlyActiveUser(id: string): Promise<boolean> {
      const result = await db.query(
        `UPDATE users SET is_admin = true, updated_at = now()
         WHERE id = $1 AND status = 'active'
           AND NOT EXISTS (SELECT 1 FROM users o WHERE o.status = 'active' AND o.id <> $1)`,
        [id],
      );
      return result.rowCount === 1;
    },

    /** Every user row, whatever its status (the first account ever becomes admin). */
    async count(): Promise<number> {
      return onlyRow(await db.query<{ n: number }>("SELECT count(*) AS n FROM users")).n;
    },

    /** Users with status 'active'. */
    async countActive(): Promise<number> {
      return onlyRow(await db.query<{ n: number }>("SELECT count(*) AS n FROM users WHERE status = 'active'")).n;
    },

    /**
     * Up to `limit` users whose address starts with `prefix` (matched
     * literally, case-insensitively), excluding soft-deleted ones, by address.
     * @default limit 10
     */
    async searchByEmailPrefix(prefix: string, limit = 10): Promise<{ id: string; email: string }[]> {
      const result = await db.query<{ id: string; email: string }>(
        `SELECT id, email FROM users
         WHERE lower(email) LIKE lower($1) || '%' ESCAPE '\\' AND status <> 'deleted'
         ORDER BY email LIMIT $2`,
        [escapeLike(prefix), limit],
      );
      return result.rows;
    },

    /**
     * The user search of the add-member dialog, without turning it into an
     * address directory (Appendix B.14): up to `limit` users whose address
     * starts with `prefix` (literally, case-insensitively) *and* who share a
     * live team with `callerId`, plus the active user whose address is exactly
     * `prefix`, if any. Soft-deleted users are never returned. By address.
     * @default limit 10
     */
    async searchVisibleTo(callerId: string, prefix: string, limit = 10): Promise<{ id: string; email: string }[]> {
      const result = await db.query<{ id: string; email: string }>(
        `SELECT u.id, u.email FROM users u
         WHERE u.status <> 'deleted' AND (
           (lower(u.email) LIKE lower($2) || '%' ESCAPE '\\' AND EXISTS (
             SELECT 1 FROM users_teams mine
             JOIN users_teams theirs ON theirs.team_id = mine.team_id
             JOIN teams t ON t.id = mine.team_id
             WHERE mine.user_id = $1 AND theirs.user_id = u.id AND t.deleted_at IS NULL))
           OR (lower(u.email) = lower($3) AND u.status = 'active'))
         ORDER BY u.email LIMIT $4`,
        [callerId, escapeLike(prefix), prefix, limit],
      );
      return result.rows;
    },

    /** A page of users for the admin list (soft-deleted excluded), newest first. */
    async listForAdmin(page: { limit: number; offset: number }): Promise<AdminUserRow[]> {
      const result = await db.query<AdminUserRow>(
        `SELECT u.id, u.email, u.name, u.is_admin AS "isAdmin", u.status, u.created_at AS "createdAt",
           (SELECT count(*) FROM users_teams ut JOIN teams t ON t.id = ut.team_id
             WHERE ut.user_id = u.id AND t.deleted_at IS NULL) AS "teamsJoined",
           (SELECT count(*) FROM users_teams ut JOIN teams t ON t.id = ut.team_id
             WHERE ut.user_id = u.id AND ut.role = 'owner' AND t.deleted_at IS NULL) AS "teamsOwned"
         FROM users u WHERE u.status <> 'deleted'
         ORDER BY u.created_at DESC, u.id DESC LIMIT $1 OFFSET $2`,
        [page.limit, page.offset],
      );
      return result.rows;
    },

    /** Number of users `listForAdmin` pages through. */
    async countForAdmin(): Promise<number> {
      return onlyRow(await db.query<{ n: number }>("SELECT count(*) AS n FROM users WHERE status <> 'deleted'")).n;
    },

    /** Live teams the user owns that have other members (which blocks deleting the account). */
    async countOwnedTeamsWithOtherMembers(userId: string): Promise<number> {
      const result = await db.query<{ n: number }>(
        `SELECT count(*) AS n FROM users_teams own JOIN teams t ON t.id = own.team_id
         WHERE own.user_id = $1 AND own.role = 'owner' AND t.deleted_at IS NULL
           AND EXISTS (SELECT 1 FROM users_teams o WHERE o.team_id = own.team_id AND o.user_id <> $1)`,
        [userId],
      );
      return onlyRow(result).n;
    },

    /** Marks a user deleted (kept for `graceDays` before the purge). False when missing or already deleted. */
    async softDelete(id: string): Promise<boolean> {
      const result = await db.query(
        `UPDATE users SET status = 'deleted', deleted_at = now(), updated_at = now()
         WHERE id = $1 AND status <> 'deleted'`,
        [id],
      );
      return result.rowCount === 1;
    },

    /** Soft-deleted users whose grace period is over, oldest first. @default graceDays 15 */
    async listExpiredSoftDeleted(graceDays = 15): Promise<User[]> {
      const result = await db.query<User>(
        `SELECT ${COLUMNS} FROM users
         WHERE status = 'deleted' AND deleted_at < now() - make_interval(days => $1)
         ORDER BY deleted_at`,
        [graceDays],
      );
      return result.rows;
    },

    /**
     * Removes the row: memberships, OAuth links and admin permissions cascade;
     * API keys, hosts and host tokens keep their rows with `created_by` NULL.
     */
    async hardDelete(id: string): Promise<boolean> {
      return (await db.query("DELETE FROM users WHERE id = $1", [id])).rowCount === 1;
    },
  };
}

/** What `createUsersRepo` returns. */
export type UsersRepo = ReturnType<typeof createUsersRepo>;
