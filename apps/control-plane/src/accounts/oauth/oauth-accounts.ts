/**
 * The database side of the GitHub callback: linking an identity to a
 * signed-in user, and creating an account from an identity.
 */
import { isUniqueViolation } from "../../db/database-error.js";
import type { AccountsStore } from "../accounts-store.js";
import { personalTeamName } from "../sessions.js";
import { createTeamWithOwner } from "../team-creation.js";
import type { GitHubProfile } from "./github-client.js";

/** How a link attempt ended; `code` goes to the settings page as `?connect_error=`. */
export type LinkOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string };

/**
 * Links the GitHub identity to `userUuid`. Outcomes: linked (or already linked
 * to this user); `already_linked` when another account has the identity;
 * `provider_already_connected` when this user has a different GitHub account
 * linked; `invalid_state` when the user is gone or not active.
 */
export async function linkIdentity(
  store: AccountsStore,
  userUuid: string,
  profile: GitHubProfile,
): Promise<LinkOutcome> {
  const user = await store.users.getById(userUuid);
  if (user === undefined || user.status !== "active") return { ok: false, code: "invalid_state" };
  const existing = await store.oauth.find("github", profile.id);
  if (existing !== undefined)
    return existing.userId === userUuid ? { ok: true } : { ok: false, code: "already_linked" };
  try {
    await store.oauth.link({ provider: "github", providerId: profile.id, userId: userUuid, email: profile.email });
    return { ok: true };
  } catch (err) {
    if (isUniqueViolation(err, "oauth_providers_pkey")) return { ok: false, code: "already_linked" };
    if (isUniqueViolation(err, "oauth_providers_user_provider_key")) {
      return { ok: false, code: "provider_already_connected" };
    }
    throw err;
  }
}

/** How a GitHub signup ended. `created` is false when a concurrent callback made the account first. */
export type SignupOutcome =
  | { readonly ok: true; readonly userId: string; readonly created: boolean }
  | { readonly ok: false; readonly code: "email_taken" };

/**
 * Creates an active account for a new GitHub identity, in one transaction:
 * the user (no password), their personal default team, the identity link, and
 * platform admin when they are the only active user. An address held by a
 * pending (never activated) email signup is taken over; any other account with
 * the address is `email_taken` (accounts are never merged by address: the
 * owner links GitHub from settings instead).
 */
export async function signUpWithIdentity(store: AccountsStore, profile: GitHubProfile): Promise<SignupOutcome> {
  const existing = await store.users.getByEmail(profile.email);
  if (existing !== undefined && existing.status !== "inactive") return { ok: false, code: "email_taken" };
  try {
    const userId = await store.transaction(async (tx) => {
      if (existing !== undefined) {
        await tx.tokens.revokeForSubject("activation", existing.id);
        await tx.users.hardDelete(existing.id);
      }
      const user = await tx.users.insert({ email: profile.email, name: profile.name, status: "active" });
      await createTeamWithOwner(tx.teams, { name: personalTeamName(user.name), ownerId: user.id, isDefault: true });
      await tx.oauth.link({ provider: "github", providerId: profile.id, userId: user.id, email: profile.email });
      await tx.users.grantAdminIfOnlyActiveUser(user.id);
      return user.id;
    });
    return { ok: true, userId, created: true };
  } catch (err) {
    if (isUniqueViolation(err, "oauth_providers_pkey")) {
      // Two callbacks for the same new identity raced: sign in to the account the other made.
      const winner = await store.oauth.find("github", profile.id);
      if (winner !== undefined) return { ok: true, userId: winner.userId, created: false };
    }
    // A soft-deleted account still holds the address, or a signup raced us.
    if (isUniqueViolation(err, "users_email_key")) return { ok: false, code: "email_taken" };
    throw err;
  }
}
