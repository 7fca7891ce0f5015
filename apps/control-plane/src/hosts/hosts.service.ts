/**
 * Hosts as users manage them (inventory §2.2 "Hosts", §5.15 steps 1 and 5):
 * creation with a one-time registration token, listing, tags, token
 * regeneration and deletion.
 *
 * Who may do what:
 * - platform admins: every host;
 * - others: only the BYOC hosts of the team their JWT acts in. Any member
 *   may read them; only the team's owner and admins manage them (create,
 *   delete, tokens, tags). Hosts of other teams and platform hosts are "not
 *   found", so ids cannot be probed.
 */
import type { Database, Queryable } from "../db/database.js";
import { forbidden, invalidRequest, invalidState, notFound } from "../http/api-error.js";
import { actorOf, type UserPrincipal } from "../http/auth.js";
import { PLATFORM_TEAM_ID, parsePublicId, toPublicId } from "../ids/public-id.js";
import type { TeamsRepo } from "../teams/teams.repo.js";
import { createTokensRepo, TOKEN_TTL_SECONDS } from "../tokens/tokens.repo.js";
import { createHostDeletion, type HostDeletion, type HostDeletionDeps } from "./host-deletion.js";
import { type HostJson, toHostJson } from "./host-json.js";
import { createHostTokensRepo } from "./host-tokens.repo.js";
import { createHostsRepo, type Host, type HostType } from "./hosts.repo.js";

/** What the host service needs. */
export interface HostsServiceDeps extends HostDeletionDeps {
  /** Transactions span the host row, its token record and the token. */
  readonly db: Database;
  readonly teams: TeamsRepo;
}

/** `POST /v1/hosts` input (validated by the route schema). */
export interface CreateHostInput {
  readonly type: HostType;
  readonly team_id?: string | undefined;
  readonly provider?: string | undefined;
  readonly availability_zone?: string | undefined;
}

/** A host with a fresh registration token (shown once; only its hash is stored). */
export interface HostWithTokenJson {
  readonly host: HostJson;
  readonly registration_token: string;
}

/** Reading a host, or changing it (delete, tokens, tags). */
type HostAction = "read" | "manage";

/** The service {@link createHostsService} builds. */
export type HostsService = ReturnType<typeof createHostsService>;

/** Builds the host service. */
export function createHostsService(deps: HostsServiceDeps) {
  const hosts = createHostsRepo(deps.db);
  const deletion: HostDeletion = createHostDeletion(deps);

  /** The host behind a public id if `principal` may do `action` on it; 404/403 otherwise. */
  async function authorize(principal: UserPrincipal, publicId: string, action: HostAction): Promise<Host> {
    const parsed = parsePublicId("host", publicId);
    const host = parsed.ok ? await hosts.getById(parsed.uuid) : undefined;
    if (host === undefined) throw notFound("host not found");
    if (principal.isAdmin) return host;
    if (host.type !== "byoc" || host.teamId !== principal.teamId) throw notFound("host not found");
    if (action === "manage") requireTeamManager(principal);
    return host;
  }

  /** Issues a registration token (and its audit record) for a pending host, inside `tx`. */
  async function issueRegistrationToken(tx: Queryable, host: Host, createdBy: string): Promise<string> {
    const tokens = createTokensRepo(tx);
    // One live token per host: a regenerated token replaces the old one.
    await tokens.revokeForSubject("host_registration", host.id);
    const expiresAt = new Date(Date.now() + TOKEN_TTL_SECONDS.host_registration * 1000);
    const record = await createHostTokensRepo(tx).insertRegistrationRecord({ hostId: host.id, createdBy, expiresAt });
    const issued = await tokens.issue("host_registration", host.id, { payload: { recordId: record.id } });
    return issued.token;
  }

  return {
    /**
     * Creates a pending host and its one-time registration token (1 hour).
     * Regular hosts: platform admins only. BYOC hosts: the team must be
     * BYOC-enabled; the caller is a platform admin, or the owner or an admin
     * of that team acting in it.
     */
    async create(principal: UserPrincipal, input: CreateHostInput): Promise<HostWithTokenJson> {
      let teamId: string | null = null;
      if (input.type === "regular") {
        if (input.team_id !== undefined) throw invalidRequest("team_id is only for byoc hosts");
        if (!principal.isAdmin) throw forbidden("only platform admins can create regular hosts");
      } else {
        if (input.team_id === undefined) throw invalidRequest("byoc hosts need team_id");
        const parsed = parsePublicId("team", input.team_id);
        // Others' teams are refused before any lookup, so team ids cannot be probed.
        if (!principal.isAdmin) {
          if (!parsed.ok || parsed.uuid !== principal.teamId) throw forbidden("switch to that team first");
          requireTeamManager(principal);
        }
        const team = parsed.ok ? await deps.teams.getById(parsed.uuid) : undefined;
        if (team === undefined) throw notFound("team not found");
        if (!team.isByoc) throw forbidden("this team is not enabled for BYOC hosts; a platform admin can enable it");
        teamId = team.id;
      }
      const { host, token } = await deps.db.transaction(async (tx) => {
        const created = await createHostsRepo(tx).insert({
          type: input.type,
          teamId,
          provider: input.provider ?? "",
          availabilityZone: input.availability_zone ?? "",
          createdBy: principal.userId,
        });
        return { host: created, token: await issueRegistrationToken(tx, created, principal.userId) };
      });
      const hostId = toPublicId("host", host.id);
      deps.audit.record({
        teamId: teamId ?? PLATFORM_TEAM_ID,
        actor: actorOf(principal),
        resourceType: "host",
        resourceId: hostId,
        action: "create",
        scope: "admin",
      });
      deps.log.info({ hostId, type: host.type }, "host created");
      return { host: toHostJson(host), registration_token: token };
    },

    /** Platform admins: every host with its team's name. Others: their team's BYOC hosts. */
    async list(principal: UserPrincipal): Promise<HostJson[]> {
      if (principal.isAdmin) return (await hosts.listAll()).map((h) => toHostJson(h, h.teamName));
      return (await hosts.listByTeam(principal.teamId)).map((h) => toHostJson(h));
    },

    async get(principal: UserPrincipal, publicId: string): Promise<HostJson> {
      return toHostJson(await authorize(principal, publicId, "read"));
    },

    /** A new registration token for a host that has not registered yet (the old token stops working). */
    async regenerateToken(principal: UserPrincipal, publicId: string): Promise<HostWithTokenJson> {
      const host = await authorize(principal, publicId, "manage");
      if (host.status !== "pending") {
        throw invalidState(`host is ${host.status}; only pending hosts get registration tokens`);
      }
      const token = await deps.db.transaction((tx) => issueRegistrationToken(tx, host, principal.userId));
      return { host: toHostJson(host), registration_token: token };
    },

    /** Capsules a forced delete would destroy (public ids). */
    async deletePreview(
      principal: UserPrincipal,
      publicId: string,
    ): Promise<{ host: HostJson; sandbox_ids: string[] }> {
      const host = await authorize(principal, publicId, "manage");
      return { host: toHostJson(host), sandbox_ids: await deletion.activeCapsuleIds(host) };
    },

    /** See {@link HostDeletion.delete}. */
    async delete(principal: UserPrincipal, publicId: string, force: boolean): Promise<void> {
      const host = await authorize(principal, publicId, "manage");
      await deletion.delete(host, { force, actor: actorOf(principal) });
    },

    async listTags(principal: UserPrincipal, publicId: string): Promise<string[]> {
      return hosts.listTags((await authorize(principal, publicId, "read")).id);
    },

    /** Adds a tag; adding one the host has is a no-op. */
    async addTag(principal: UserPrincipal, publicId: string, tag: string): Promise<void> {
      await hosts.addTag((await authorize(principal, publicId, "manage")).id, tag);
    },

    /** Removes a tag; removing one the host does not have is a no-op. */
    async removeTag(principal: UserPrincipal, publicId: string, tag: string): Promise<void> {
      await hosts.removeTag((await authorize(principal, publicId, "manage")).id, tag);
    },
  };
}

function requireTeamManager(principal: UserPrincipal): void {
  if (principal.role === "member") throw forbidden("only the team's owner or admins can manage its hosts");
}
