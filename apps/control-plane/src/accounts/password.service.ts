/**
 * Password change (or adding one to a GitHub-only account) and the emailed
 * reset flow (inventory §2.2, §5.13). Every change is announced by email to
 * the account's address, so a hijacked session cannot change the password
 * silently.
 */
import { isOneTimeTokenFormat } from "../auth/api-key.js";
import { verifyPassword } from "../auth/password.js";
import { ApiError, invalidRequest, unauthorized } from "../http/api-error.js";
import type { UserPrincipal } from "../http/auth.js";
import { passwordChangedEmail, passwordResetCompletedEmail, passwordResetEmail } from "../mail/templates.js";
import { type AccountServiceDeps, resolveAccountDeps, tokenLink } from "./account-deps.js";
import { assertNewPasswordAcceptable, hashNewPassword } from "./new-password.js";

/** Lifetime of a password reset link. */
export const PASSWORD_RESET_TTL_MS = 15 * 60_000;

/** `POST /v1/me/password` input. */
export interface ChangePasswordInput {
  readonly current_password?: string | undefined;
  readonly new_password: string;
  readonly confirm_password?: string | undefined;
}

const invalidToken = () => new ApiError(400, "invalid_token", "the reset link is invalid or has expired");

/** Password change and reset. */
export function createPasswordService(input: AccountServiceDeps) {
  const deps = resolveAccountDeps(input);
  const { store } = deps;

  return {
    /**
     * With a password set, `current_password` must match (401
     * `wrong_password`). Without one (GitHub-only account), the caller proves
     * intent by repeating the new password in `confirm_password`. A
     * `confirm_password` that is given must always match.
     */
    async changePassword(caller: UserPrincipal, body: ChangePasswordInput): Promise<void> {
      const user = await store.users.getById(caller.userId);
      if (user === undefined) throw unauthorized("user not found");
      const adding = user.passwordHash === null;
      if (body.confirm_password !== undefined && body.confirm_password !== body.new_password) {
        throw invalidRequest("body.confirm_password does not match body.new_password");
      }
      if (adding && body.confirm_password === undefined) {
        throw invalidRequest("body.confirm_password is required to add a password");
      }
      assertNewPasswordAcceptable(body.new_password, "body.new_password");
      if (!adding) {
        if (body.current_password === undefined || body.current_password === "") {
          throw invalidRequest("body.current_password is required");
        }
        if (!(await verifyPassword(body.current_password, user.passwordHash))) {
          throw new ApiError(401, "wrong_password", "the current password is wrong");
        }
      }
      const hash = await hashNewPassword(body.new_password, "body.new_password", deps.passwordParams);
      await store.users.updatePasswordHash(user.id, hash);
      // A reset link mailed before the change must not undo it.
      await store.tokens.revokeForSubject("password_reset", user.id);
      deps.mail.send(passwordChangedEmail({ to: user.email, name: user.name, added: adding }));
    },

    /**
     * Emails a 15-minute reset link to an active account with this address;
     * says nothing either way (the route always answers 204). A new link
     * replaces the previous ones.
     */
    async requestReset(email: string): Promise<void> {
      const user = await store.users.getByEmail(email.trim());
      if (user === undefined || user.status !== "active") return;
      const token = await store.transaction(async (tx) => {
        await tx.tokens.revokeForSubject("password_reset", user.id);
        return tx.tokens.issue("password_reset", user.id, { ttlSeconds: PASSWORD_RESET_TTL_MS / 1000 });
      });
      deps.mail.send(
        passwordResetEmail({
          to: user.email,
          name: user.name,
          resetUrl: tokenLink(deps.dashboardUrl, "/reset-password", token.token),
          expiresInMinutes: PASSWORD_RESET_TTL_MS / 60_000,
        }),
      );
    },

    /**
     * Sets a new password with a reset token (usable once). The password is
     * checked before the token is spent, so a rejected password does not burn
     * the link. Existing JWTs stay valid until they expire (as in the reference).
     */
    async confirmReset(tokenText: string, newPassword: string): Promise<void> {
      assertNewPasswordAcceptable(newPassword, "body.new_password");
      if (!isOneTimeTokenFormat(tokenText)) throw invalidToken();
      const row = await store.tokens.consume("password_reset", tokenText);
      if (row === undefined) throw invalidToken();
      const user = await store.users.getById(row.subjectId);
      if (user === undefined || user.status !== "active") throw invalidToken();
      const passwordHash = await hashNewPassword(newPassword, "body.new_password", deps.passwordParams);
      await store.users.updatePasswordHash(user.id, passwordHash);
      deps.mail.send(passwordResetCompletedEmail({ to: user.email, name: user.name }));
    },
  };
}

/** The service {@link createPasswordService} builds. */
export type PasswordService = ReturnType<typeof createPasswordService>;
