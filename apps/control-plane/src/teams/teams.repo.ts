/**
 * Teams and memberships (`teams`, `users_teams`). Teams are soft-deleted:
 * every read skips deleted teams unless it says otherwise, and memberships of
 * a deleted team stay (they disappear with it from every list).
 */
import type { Queryable } from "../db/database.js";
import { PLATFORM_TEAM_ID } from "../db/seeds.js";
import { firstRow, onlyRow } from "../db/sql.js";

/** owner: one per team, the creator; admin: manages members and hosts; member: uses the team. */
export type TeamRole = "owner" | "admin" | "member";

/** A row of `teams`. */
export interface Team {
  readonly id: string;
  readonly name: string;
  /** `xxxxxx-yyyyyy`, unique. */
  readonly slug: string;
  readonly isByoc: boolean;
  readonly createdAt: Date;
  readonly deletedAt: Date | null;
}

/** A team seen by one of its members. */
export interface MemberTeam extends Team {
  readonly role: TeamRole;
  readonly isDefault: boolean;
  readonly joinedAt: Date;
}

/** A member seen from the team. */
export interface TeamMember {
  readonly userId: string;
  readonly name: string;
  readonly email: string;
  readonly role: TeamRole;
  readonly joinedAt: Date;
}

/** A team as the admin team list shows it. */
export interface AdminTeamRow extends Team {
  readonly memberCount: number;
  /** Empty when the team has no owner row (never for teams made by the API). */
  readonly ownerName: string;
  readonly ownerEmail: string;
  /** Capsules pending, running, paused or missing. */
  readonly activeSandboxCount: number;
  readonly channelCount: number;
}

const COLUMNS = `t.id, t.name, t.slug, t.is_byoc AS "isByoc", t.created_at AS "createdAt", t.deleted_at AS "deletedAt"`;
const MEMBER_TEAM_COLUMNS = `${COLUMNS}, ut.role, ut.is_default AS "isDefault", ut.created_at AS "joinedAt"`;

/** Repository of `teams` and `users_teams`. Pass the database or a transaction. */
export function createTeamsRepo(db: Queryable) {
  return {
    /** Inserts a team with no members (tests, imports). Throws a unique violation on `teams_slug_key`. */
    async insert(team: { id?: string; name: string; slug: string }): Promise<Team> {
      const result = await db.query<Team>(
        `INSERT INTO teams AS t (id, name, slug) VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3)
         RETURNING ${COLUMNS}`,
        [team.id ?? null, team.name, team.slug],
      );
      return onlyRow(result);
    },

    /**
     * Creates a team and its owner's membership in one statement (both or
     * neither). Throws a unique violation on `teams_slug_key`, or on
     * `users_teams_one_default_key` when `isDefault` and the user already has a
     * default team.
     */
    async insertWithOwner(team: { name: string; slug: string; ownerId: string; isDefault: boolean }): Promise<Team> {
      const result = await db.query<Team>(
        `WITH t AS (INSERT INTO teams (name, slug) VALUES ($1, $2) RETURNING *),
              m AS (INSERT INTO users_teams (user_id, team_id, role, is_default) SELECT $3::uuid, id, 'owner', $4::boolean FROM t)
         SELECT ${COLUMNS} FROM t`,
        [team.name, team.slug, team.ownerId, team.isDefault],
      );
      return onlyRow(result);
    },

    /** The team unless soft-deleted (or including deleted ones, for admin pages). */
    async getById(id: string, options: { includeDeleted?: boolean } = {}): Promise<Team | undefined> {
      const live = options.includeDeleted ? "" : "AND t.deleted_at IS NULL";
      return firstRow(await db.query<Team>(`SELECT ${COLUMNS} FROM teams t WHERE t.id = $1 ${live}`, [id]));
    },

    /** Renames a live team. */
    async rename(id: string, name: string): Promise<boolean> {
      const result = await db.query("UPDATE teams SET name = $2 WHERE id = $1 AND deleted_at IS NULL", [id, name]);
      return result.rowCount === 1;
    },

    /** Turns on bring-your-own-compute (one-way). True also when it was already on. */
    async enableByoc(id: string): Promise<boolean> {
      const result = await db.query("UPDATE teams SET is_byoc = true WHERE id = $1 AND deleted_at IS NULL", [id]);
      return result.rowCount === 1;
    },

    /**
     * Marks a live team deleted. The platform team cannot be deleted. The team
     * stops being anyone's default in the same statement: the memberships
     * stay, and a default flag left on one would keep its user from ever
     * getting a new default team (one default per user, by unique index).
     */
    async softDelete(id: string): Promise<boolean> {
      const result = await db.query<{ n: number }>(
        `WITH t AS (UPDATE teams SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL AND id <> $2 RETURNING id),
              d AS (UPDATE users_teams SET is_default = false WHERE team_id IN (SELECT id FROM t) AND is_default)
         SELECT count(*) AS n FROM t`,
        [id, PLATFORM_TEAM_ID],
      );
      return onlyRow(result).n === 1;
    },

    /** The user's live teams with their role, in the order they joined. */
    async listForUser(userId: string): Promise<MemberTeam[]> {
      const result = await db.query<MemberTeam>(
        `SELECT ${MEMBER_TEAM_COLUMNS} FROM users_teams ut JOIN teams t ON t.id = ut.team_id
         WHERE ut.user_id = $1 AND t.deleted_at IS NULL ORDER BY ut.created_at, t.id`,
        [userId],
      );
      return result.rows;
    },

    /** The user's default team, if it is live. */
    async getDefaultForUser(userId: string): Promise<MemberTeam | undefined> {
      return firstRow(
        await db.query<MemberTeam>(
          `SELECT ${MEMBER_TEAM_COLUMNS} FROM users_teams ut JOIN teams t ON t.id = ut.team_id
           WHERE ut.user_id = $1 AND ut.is_default AND t.deleted_at IS NULL`,
          [userId],
        ),
      );
    },

    /** The user's membership of a live team (`role` is re-checked here on every team-scoped write). */
    async getMembership(teamId: string, userId: string): Promise<{ role: TeamRole; isDefault: boolean } | undefined> {
      return firstRow(
        await db.query<{ role: TeamRole; isDefault: boolean }>(
          `SELECT ut.role, ut.is_default AS "isDefault" FROM users_teams ut JOIN teams t ON t.id = ut.team_id
           WHERE ut.team_id = $1 AND ut.user_id = $2 AND t.deleted_at IS NULL`,
          [teamId, userId],
        ),
      );
    },

    /**
     * Adds a membership. Throws a unique violation on `users_teams_pkey` when
     * the user is a member already, on `users_teams_one_owner_key` for a
     * second owner, on `users_teams_one_default_key` for a second default team.
     */
    async addMember(member: { teamId: string; userId: string; role: TeamRole; isDefault?: boolean }): Promise<void> {
      await db.query("INSERT INTO users_teams (team_id, user_id, role, is_default) VALUES ($1, $2, $3, $4)", [
        member.teamId,
        member.userId,
        member.role,
        member.isDefault ?? false,
      ]);
    },

    /**
     * Members of a team (soft-deleted users left out): the owner, then admins,
     * then members, each group in the order they joined (email breaks ties, as
     * PGlite's clock can give two joins the same instant).
     */
    async listMembers(teamId: string): Promise<TeamMember[]> {
      const result = await db.query<TeamMember>(
        `SELECT u.id AS "userId", u.name, u.email, ut.role, ut.created_at AS "joinedAt"
         FROM users_teams ut JOIN users u ON u.id = ut.user_id
         WHERE ut.team_id = $1 AND u.status <> 'deleted'
         ORDER BY CASE ut.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, ut.created_at, u.email`,
        [teamId],
      );
      return result.rows;
    },

    /** Sets a non-owner's role; false when not a member or the member is the owner (whose role never changes). */
    async setMemberRole(teamId: string, userId: string, role: Exclude<TeamRole, "owner">): Promise<boolean> {
      const result = await db.query(
        "UPDATE users_teams SET role = $3 WHERE team_id = $1 AND user_id = $2 AND role <> 'owner'",
        [teamId, userId, role],
      );
      return result.rowCount === 1;
    },

    /** Removes a non-owner member (also "leave"); false when not a member or the owner. */
    async removeMember(teamId: string, userId: string): Promise<boolean> {
      const result = await db.query("DELETE FROM users_teams WHERE team_id = $1 AND user_id = $2 AND role <> 'owner'", [
        teamId,
        userId,
      ]);
      return result.rowCount === 1;
    },

    /** Live teams the user owns and nobody else belongs to (deleted with the account). */
    async listSoleOwnedTeams(userId: string): Promise<Team[]> {
      const result = await db.query<Team>(
        `SELECT ${COLUMNS} FROM users_teams own JOIN teams t ON t.id = own.team_id
         WHERE own.user_id = $1 AND own.role = 'owner' AND t.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM users_teams o WHERE o.team_id = t.id AND o.user_id <> $1)
         ORDER BY t.created_at`,
        [userId],
      );
      return result.rows;
    },

    /** Ids of the live teams the user owns. */
    async listOwnedTeamIds(userId: string): Promise<string[]> {
      const result = await db.query<{ id: string }>(
        `SELECT t.id FROM users_teams ut JOIN teams t ON t.id = ut.team_id
         WHERE ut.user_id = $1 AND ut.role = 'owner' AND t.deleted_at IS NULL ORDER BY t.created_at`,
        [userId],
      );
      return result.rows.map((r) => r.id);
    },

    /** A page of teams for the admin list: platform team excluded, live first, then newest first. */
    async listForAdmin(page: { limit: number; offset: number }): Promise<AdminTeamRow[]> {
      const result = await db.query<AdminTeamRow>(
        `SELECT ${COLUMNS},
           (SELECT count(*) FROM users_teams m WHERE m.team_id = t.id) AS "memberCount",
           COALESCE(o.name, '') AS "ownerName", COALESCE(o.email, '') AS "ownerEmail",
           (SELECT count(*) FROM sandboxes s WHERE s.team_id = t.id
             AND s.status IN ('pending', 'running', 'paused', 'missing')) AS "activeSandboxCount",
           (SELECT count(*) FROM channels c WHERE c.team_id = t.id) AS "channelCount"
         FROM teams t
         LEFT JOIN users_teams ot ON ot.team_id = t.id AND ot.role = 'owner'
         LEFT JOIN users o ON o.id = ot.user_id
         WHERE t.id <> $3
         ORDER BY t.deleted_at ASC NULLS FIRST, t.created_at DESC, t.id
         LIMIT $1 OFFSET $2`,
        [page.limit, page.offset, PLATFORM_TEAM_ID],
      );
      return result.rows;
    },

    /** Number of teams `listForAdmin` pages through. */
    async countForAdmin(): Promise<number> {
      const result = await db.query<{ n: number }>("SELECT count(*) AS n FROM teams WHERE id <> $1", [
        PLATFORM_TEAM_ID,
      ]);
      return onlyRow(result).n;
    },
  };
}

/** What `createTeamsRepo` returns. */
export type TeamsRepo = ReturnType<typeof createTeamsRepo>;
