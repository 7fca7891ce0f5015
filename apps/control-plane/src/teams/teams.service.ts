/**
 * Teams, members and roles (inventory §2.2 "Teams", §5.14). Every `{id}`
 * route acts on the team of the caller's JWT only: another id is refused with
 * 403 "use switch-team first", so a session never touches a team it did not
 * select. Roles come from the database (the authenticator reads the
 * membership on every request), never from the token.
 *
 * - owner: exactly one, the creator; can do everything; cannot leave, be
 *   removed or change role; the only one who can delete the team.
 * - admin: rename, add and remove members, change roles (admin ↔ member).
 * - member: read the team and its members; leave.
 */
import type { Logger } from "@wrenn/kit";
import type { AccountsStore } from "../accounts/accounts-store.js";
import type { MailDispatch } from "../accounts/mail-dispatch.js";
import { createTeamWithOwner } from "../accounts/team-creation.js";
import type { AuditSink } from "../audit/audit-sink.js";
import type { TeamRole } from "../auth/jwt.js";
import { isUniqueViolation } from "../db/database-error.js";
import { conflict, forbidden, invalidRequest, notFound } from "../http/api-error.js";
import { actorOf, type UserPrincipal } from "../http/auth.js";
import { parsePublicId, toPublicId } from "../ids/public-id.js";
import { addedToTeamEmail, teamCreatedEmail } from "../mail/templates.js";
import type { Team, TeamMember } from "./teams.repo.js";

/**
 * Destroys every active capsule of a team (the control plane's capsule
 * service provides it). Team deletion calls it first and stops if it throws,
 * so a team is never marked deleted while its capsules still run.
 */
export type TeamCapsuleCleanup = (teamId: string) => Promise<void>;

/** What the team service needs. */
export interface TeamServiceDeps {
  readonly store: AccountsStore;
  readonly mail: MailDispatch;
  readonly audit: AuditSink;
  readonly log: Logger;
  /** Dashboard base URL, for the button of team emails. */
  readonly dashboardUrl: string;
  readonly destroyTeamCapsules: TeamCapsuleCleanup;
}

/** A team on the wire. */
export interface TeamJson {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly is_byoc: boolean;
  readonly created_at: string;
}

/** A member on the wire. */
export interface TeamMemberJson {
  readonly user_id: string;
  readonly name: string;
  readonly email: string;
  readonly role: TeamRole;
  readonly joined_at: string;
}

/** Maps a team row to its JSON. */
export function teamJson(team: Team): TeamJson {
  return {
    id: toPublicId("team", team.id),
    name: team.name,
    slug: team.slug,
    is_byoc: team.isByoc,
    created_at: team.createdAt.toISOString(),
  };
}

/** Maps a member row to its JSON. */
export function teamMemberJson(member: TeamMember): TeamMemberJson {
  return {
    user_id: toPublicId("user", member.userId),
    name: member.name,
    email: member.email,
    role: member.role,
    joined_at: member.joinedAt.toISOString(),
  };
}

const MANAGERS: readonly TeamRole[] = ["owner", "admin"];

/** Team and member management. */
export function createTeamService(deps: TeamServiceDeps) {
  const { store } = deps;
  const dashboardUrl = deps.dashboardUrl.replace(/\/+$/, "");

  /** The caller's team UUID when `teamPublicId` names it; 403 for any other team. */
  function ownTeam(caller: UserPrincipal, teamPublicId: string): string {
    const parsed = parsePublicId("team", teamPublicId);
    if (!parsed.ok) throw notFound("team not found");
    if (parsed.uuid !== caller.teamId) throw forbidden("this token is for another team; use switch-team first");
    return parsed.uuid;
  }

  function requireRole(caller: UserPrincipal, roles: readonly TeamRole[], what: string): void {
    if (!roles.includes(caller.role)) throw forbidden(`only the team's ${roles.join(" or ")} can ${what}`);
  }

  /** The member `uid` of `teamId`; 404 when the id is malformed or not a member. */
  async function member(teamId: string, uid: string): Promise<{ userId: string; role: TeamRole }> {
    const parsed = parsePublicId("user", uid);
    const membership = parsed.ok ? await store.teams.getMembership(teamId, parsed.uuid) : undefined;
    if (!parsed.ok || membership === undefined) throw notFound("member not found");
    return { userId: parsed.uuid, role: membership.role };
  }

  function auditMember(caller: UserPrincipal, teamId: string, userId: string, change: MemberChange): void {
    deps.audit.record({
      teamId,
      actor: actorOf(caller),
      resourceType: "member",
      resourceId: toPublicId("user", userId),
      action: change.action,
      scope: "admin",
      status: change.status,
      ...(change.metadata ? { metadata: change.metadata } : {}),
    });
  }

  /** Removes a membership and the API keys that member made for the team (they must not outlive it). */
  async function dropMember(teamId: string, userId: string): Promise<boolean> {
    return store.transaction(async (tx) => {
      if (!(await tx.teams.removeMember(teamId, userId))) return false;
      await tx.apiKeys.deleteByCreatorInTeam(teamId, userId);
      return true;
    });
  }

  const service = {
    /** The caller's live teams with their role, in the order they joined. */
    async list(caller: UserPrincipal): Promise<(TeamJson & { role: TeamRole })[]> {
      return (await store.teams.listForUser(caller.userId)).map((t) => ({ ...teamJson(t), role: t.role }));
    },

    /** Creates a team owned by the caller (not their default) and emails them. */
    async create(caller: UserPrincipal, name: string): Promise<TeamJson & { role: TeamRole }> {
      const trimmed = name.trim();
      if (trimmed === "") throw invalidRequest("body.name must not be blank");
      const team = await createTeamWithOwner(store.teams, { name: trimmed, ownerId: caller.userId, isDefault: false });
      deps.mail.send(teamCreatedEmail({ to: caller.email, name: caller.name, teamName: team.name, dashboardUrl }));
      return { ...teamJson(team), role: "owner" };
    },

    /** The caller's team and its members. */
    async get(caller: UserPrincipal, teamPublicId: string): Promise<{ team: TeamJson; members: TeamMemberJson[] }> {
      const teamId = ownTeam(caller, teamPublicId);
      const team = await store.teams.getById(teamId);
      if (team === undefined) throw notFound("team not found");
      return { team: teamJson(team), members: (await store.teams.listMembers(teamId)).map(teamMemberJson) };
    },

    /** Renames the team (owner or admin); audited as `team/rename`. */
    async rename(caller: UserPrincipal, teamPublicId: string, name: string): Promise<void> {
      const teamId = ownTeam(caller, teamPublicId);
      requireRole(caller, MANAGERS, "rename it");
      const trimmed = name.trim();
      if (trimmed === "") throw invalidRequest("body.name must not be blank");
      const team = await store.teams.getById(teamId);
      if (team === undefined || !(await store.teams.rename(teamId, trimmed))) throw notFound("team not found");
      deps.audit.record({
        teamId,
        actor: actorOf(caller),
        resourceType: "team",
        resourceId: toPublicId("team", teamId),
        action: "rename",
        status: "info",
        metadata: { old_name: team.name, new_name: trimmed },
      });
    },

    /** Deletes the team (owner only): its capsules are destroyed first. */
    async delete(caller: UserPrincipal, teamPublicId: string): Promise<void> {
      const teamId = ownTeam(caller, teamPublicId);
      requireRole(caller, ["owner"], "delete it");
      await service.deleteTeamInternal(teamId);
    },

    /**
     * Deletes a team without checking who asks (account deletion, admin API):
     * destroys its capsules, then in one transaction deletes its API keys and
     * soft-deletes it. Memberships stay, hidden with the team. Idempotent.
     */
    async deleteTeamInternal(teamId: string): Promise<void> {
      await deps.destroyTeamCapsules(teamId);
      await store.transaction(async (tx) => {
        await tx.apiKeys.deleteByTeam(teamId);
        await tx.teams.softDelete(teamId);
      });
      deps.log.info({ teamId }, "team deleted");
    },

    /** Members of the caller's team. */
    async listMembers(caller: UserPrincipal, teamPublicId: string): Promise<TeamMemberJson[]> {
      const teamId = ownTeam(caller, teamPublicId);
      return (await store.teams.listMembers(teamId)).map(teamMemberJson);
    },

    /** Adds the active account with this address as a `member` (owner or admin); emails them. */
    async addMember(caller: UserPrincipal, teamPublicId: string, email: string): Promise<TeamMemberJson> {
      const teamId = ownTeam(caller, teamPublicId);
      requireRole(caller, MANAGERS, "add members");
      const user = await store.users.getByEmail(email.trim());
      if (user === undefined || user.status !== "active") throw notFound("no active account has this email");
      const team = await store.teams.getById(teamId);
      if (team === undefined) throw notFound("team not found");
      try {
        await store.teams.addMember({ teamId, userId: user.id, role: "member" });
      } catch (err) {
        if (isUniqueViolation(err, "users_teams_pkey")) throw conflict("this user is already a member of the team");
        throw err;
      }
      const added = (await store.teams.listMembers(teamId)).find((m) => m.userId === user.id);
      if (added === undefined) throw notFound("member not found");
      auditMember(caller, teamId, user.id, {
        action: "add",
        status: "success",
        metadata: { email: user.email, role: "member" },
      });
      const addedBy = caller.name.trim() === "" ? caller.email : caller.name;
      deps.mail.send(
        addedToTeamEmail({
          to: user.email,
          name: user.name,
          teamName: team.name,
          role: "member",
          addedBy,
          dashboardUrl,
        }),
      );
      return teamMemberJson(added);
    },

    /** Makes a member an admin or a plain member (owner or admin); the owner's role never changes. */
    async updateMemberRole(
      caller: UserPrincipal,
      teamPublicId: string,
      uid: string,
      role: Exclude<TeamRole, "owner">,
    ): Promise<void> {
      const teamId = ownTeam(caller, teamPublicId);
      requireRole(caller, MANAGERS, "change roles");
      const target = await member(teamId, uid);
      if (target.role === "owner") throw forbidden("the owner's role cannot change");
      if (!(await store.teams.setMemberRole(teamId, target.userId, role))) throw notFound("member not found");
      auditMember(caller, teamId, target.userId, {
        action: "role_update",
        status: "info",
        metadata: { new_role: role },
      });
    },

    /** Removes a member (owner or admin; never the owner) and revokes the keys they made for the team. */
    async removeMember(caller: UserPrincipal, teamPublicId: string, uid: string): Promise<void> {
      const teamId = ownTeam(caller, teamPublicId);
      requireRole(caller, MANAGERS, "remove members");
      const target = await member(teamId, uid);
      if (target.role === "owner") throw forbidden("the owner cannot be removed");
      if (!(await dropMember(teamId, target.userId))) throw notFound("member not found");
      auditMember(caller, teamId, target.userId, { action: "remove", status: "warning" });
    },

    /** Leaves the caller's team (not the owner), revoking the keys the caller made for it. */
    async leave(caller: UserPrincipal, teamPublicId: string): Promise<void> {
      const teamId = ownTeam(caller, teamPublicId);
      if (caller.role === "owner") throw forbidden("the owner cannot leave the team; delete it instead");
      if (!(await dropMember(teamId, caller.userId))) throw notFound("member not found");
      auditMember(caller, teamId, caller.userId, { action: "leave", status: "info" });
    },
  };
  return service;
}

/** The service {@link createTeamService} builds. */
export type TeamService = ReturnType<typeof createTeamService>;

interface MemberChange {
  readonly action: "add" | "remove" | "leave" | "role_update";
  readonly status: "success" | "info" | "warning";
  readonly metadata?: Readonly<Record<string, unknown>>;
}
