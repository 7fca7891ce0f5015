/**
 * The signed-in user's own account: profile, display name, OAuth links and
 * deletion (inventory §2.2 "Self-service", §5.13).
 */
import { ApiError, invalidRequest, notFound, unauthorized } from "../http/api-error.js";
import type { UserPrincipal } from "../http/auth.js";
import { accountDeletedEmail } from "../mail/templates.js";
import type { TeamService } from "../teams/teams.service.js";
import type { User } from "../users/users.repo.js";
import { type AccountServiceDeps, resolveAccountDeps } from "./account-deps.js";
import { isKnownProvider, type OAuthProvider } from "./oauth/providers.js";
import { type AuthResponseJson, authResponse } from "./sessions.js";

/** What the profile service needs besides the account deps. */
export interface MeServiceDeps extends AccountServiceDeps {
  /** Deletes a team the departing user owns alone (destroying its capsules). */
  readonly teams: Pick<TeamService, "deleteTeamInternal">;
  /** Days a deleted account is kept before the purge (stated in the goodbye email). @default 15 */
  readonly purgeAfterDays?: number;
}

/** `GET /v1/me`. */
export interface MeJson {
  readonly name: string;
  readonly email: string;
  readonly has_password: boolean;
  readonly providers: OAuthProvider[];
}

/** Profile, name, provider links and account deletion. */
export function createMeService(input: MeServiceDeps) {
  const deps = resolveAccountDeps(input);
  const { store } = deps;

  async function currentUser(caller: UserPrincipal): Promise<User> {
    const user = await store.users.getById(caller.userId);
    if (user === undefined) throw unauthorized("user not found");
    return user;
  }

  return {
    /** Name, address, whether a password is set and the linked providers. */
    async get(caller: UserPrincipal): Promise<MeJson> {
      const user = await currentUser(caller);
      const links = await store.oauth.listForUser(user.id);
      const providers = links.map((l) => l.provider).filter(isKnownProvider);
      return { name: user.name, email: user.email, has_password: user.passwordHash !== null, providers };
    },

    /**
     * Renames the user and returns a new JWT carrying the name, for the team
     * the caller's token is in (Appendix B.9: the reference switched the
     * session to the user's default team).
     */
    async updateName(caller: UserPrincipal, name: string): Promise<AuthResponseJson> {
      const trimmed = name.trim();
      if (trimmed === "") throw invalidRequest("body.name must not be blank");
      if (!(await store.users.updateName(caller.userId, trimmed))) throw unauthorized("user not found");
      const user = await currentUser(caller);
      return authResponse(deps.jwt, user, { teamId: caller.teamId, role: caller.role });
    },

    /**
     * Unlinks a provider. Refused (400 `last_login_method`) when it is the
     * only way left to sign in: no password and no other provider.
     */
    async disconnectProvider(caller: UserPrincipal, provider: string): Promise<void> {
      if (!isKnownProvider(provider)) throw new ApiError(404, "provider_not_found", "unknown OAuth provider");
      const user = await currentUser(caller);
      const links = await store.oauth.listForUser(user.id);
      if (!links.some((l) => l.provider === provider)) throw notFound("this provider is not linked to your account");
      if (user.passwordHash === null && links.length <= 1) {
        throw new ApiError(400, "last_login_method", "set a password before unlinking your only sign-in method");
      }
      if (!(await store.oauth.unlink(user.id, provider))) throw notFound("this provider is not linked to your account");
    },

    /**
     * Deletes the account: `confirmation` must be the account's address (any
     * case). Refused with 409 `owns_team_with_members` while the user owns a
     * team others belong to. Teams the user owns alone are deleted (capsules
     * destroyed), then the user's API keys go and the account is soft-deleted
     * (purged after the grace period by a background job).
     */
    async deleteAccount(caller: UserPrincipal, confirmation: string): Promise<void> {
      const user = await currentUser(caller);
      if (confirmation.trim().toLowerCase() !== user.email.toLowerCase()) {
        throw invalidRequest("body.confirmation must be your account's email address");
      }
      if ((await store.users.countOwnedTeamsWithOtherMembers(user.id)) > 0) {
        throw new ApiError(
          409,
          "owns_team_with_members",
          "you own a team that has other members; remove them or delete the team first",
        );
      }
      for (const team of await store.teams.listSoleOwnedTeams(user.id)) {
        await input.teams.deleteTeamInternal(team.id);
      }
      await store.transaction(async (tx) => {
        await tx.apiKeys.deleteByCreator(user.id);
        await tx.tokens.revokeForSubject("password_reset", user.id);
        await tx.users.softDelete(user.id);
      });
      deps.log.info({ userId: user.id }, "account deleted");
      deps.mail.send(
        accountDeletedEmail({ to: user.email, name: user.name, purgeAfterDays: input.purgeAfterDays ?? 15 }),
      );
    },
  };
}

/** The service {@link createMeService} builds. */
export type MeService = ReturnType<typeof createMeService>;
