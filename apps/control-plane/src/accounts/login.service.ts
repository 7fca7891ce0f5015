/**
 * Email + password sign-in and switching the team a session acts in
 * (inventory §2.2, §5.13).
 */
import { needsRehash, verifyPassword } from "../auth/password.js";
import { ApiError, notFound, unauthorized } from "../http/api-error.js";
import type { UserPrincipal } from "../http/auth.js";
import { parsePublicId } from "../ids/public-id.js";
import { type AccountServiceDeps, resolveAccountDeps } from "./account-deps.js";
import { hashNewPassword } from "./new-password.js";
import { type AuthResponseJson, authResponse, ensureDefaultTeam } from "./sessions.js";

/** `POST /v1/auth/login` input. */
export interface LoginInput {
  readonly email: string;
  readonly password: string;
}

const badCredentials = () => unauthorized("invalid email or password");

/** Sign-in and team switching. */
export function createLoginService(input: AccountServiceDeps) {
  const deps = resolveAccountDeps(input);
  const { store } = deps;

  /** The password check; a stored value this code cannot read counts as a wrong password (and is logged). */
  async function passwordMatches(password: string, stored: string | null, userId: string | undefined) {
    try {
      return await verifyPassword(password, stored);
    } catch (err) {
      deps.log.error({ err, userId }, "login: stored password hash is unreadable");
      return false;
    }
  }

  return {
    /**
     * Checks the password first and only then the account status, so a wrong
     * password never reveals whether an address is registered, pending or
     * disabled; unknown addresses still pay for a full scrypt run.
     */
    async login(body: LoginInput): Promise<AuthResponseJson> {
      const user = await store.users.getByEmail(body.email.trim());
      const ok = await passwordMatches(body.password, user?.passwordHash ?? null, user?.id);
      if (user === undefined || !ok) throw badCredentials();
      if (user.status === "inactive") {
        throw new ApiError(403, "account_not_activated", "activate your account with the link we emailed you first");
      }
      if (user.status !== "active") throw new ApiError(403, "account_disabled", "this account is disabled");
      if (user.passwordHash !== null && needsRehash(user.passwordHash, deps.passwordParams)) {
        // Upgrade the hash while the plaintext is at hand; a failure only costs the upgrade.
        await hashNewPassword(body.password, "password", deps.passwordParams)
          .then((hash) => store.users.updatePasswordHash(user.id, hash))
          .catch((err: unknown) => deps.log.warn({ err, userId: user.id }, "login: password rehash failed"));
      }
      const session = await ensureDefaultTeam(store, user);
      return authResponse(deps.jwt, session.user, { teamId: session.team.id, role: session.team.role });
    },

    /**
     * A new JWT for another team of the caller. Membership and role are read
     * from the database; a team the caller is not in is "not found".
     */
    async switchTeam(caller: UserPrincipal, teamPublicId: string): Promise<AuthResponseJson> {
      const parsed = parsePublicId("team", teamPublicId);
      if (!parsed.ok) throw notFound("team not found");
      const membership = await store.teams.getMembership(parsed.uuid, caller.userId);
      if (membership === undefined) throw notFound("team not found");
      const user = { id: caller.userId, email: caller.email, name: caller.name, isAdmin: caller.isAdmin };
      return authResponse(deps.jwt, user, { teamId: parsed.uuid, role: membership.role });
    },
  };
}

/** The service {@link createLoginService} builds. */
export type LoginService = ReturnType<typeof createLoginService>;
