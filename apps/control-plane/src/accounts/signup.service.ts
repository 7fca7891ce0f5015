/**
 * Email + password sign-up and activation (inventory §2.2, §5.13): the
 * account is created inactive, a 30-minute activation token is stored as a
 * hash, and the link goes out by email; following it activates the account
 * and signs the user in.
 */
import { isOneTimeTokenFormat } from "../auth/api-key.js";
import { isUniqueViolation } from "../db/database-error.js";
import { ApiError, invalidRequest } from "../http/api-error.js";
import { activationEmail } from "../mail/templates.js";
import { type AccountServiceDeps, resolveAccountDeps, tokenLink } from "./account-deps.js";
import { hashNewPassword } from "./new-password.js";
import { type AuthResponseJson, authResponse, ensureDefaultTeam } from "./sessions.js";

/** Lifetime of an activation link; also how long a pending signup blocks a new one for the same address. */
export const ACTIVATION_TTL_MS = 30 * 60_000;

/** `POST /v1/auth/signup` input (validated by the route schema). */
export interface SignupInput {
  readonly email: string;
  readonly password: string;
  readonly name: string;
}

/** The message of a successful signup. */
export const SIGNUP_MESSAGE = "Account created. Please check your email to activate your account.";

const invalidToken = () => new ApiError(400, "invalid_token", "the activation link is invalid or has expired");

/** Sign-up and activation. */
export function createSignupService(input: AccountServiceDeps) {
  const deps = resolveAccountDeps(input);
  const { store } = deps;

  return {
    /**
     * Creates an inactive account and emails its activation link. An address
     * with a pending signup younger than 30 minutes gets 409
     * `signup_cooldown` (the link is on its way); an older pending one is
     * replaced; any other account with the address gets 409 `email_taken`.
     */
    async signup(body: SignupInput): Promise<{ message: string }> {
      const email = body.email.trim();
      const name = body.name.trim();
      if (name === "") throw invalidRequest("body.name must not be blank");
      const existing = await store.users.getByEmail(email);
      if (existing !== undefined && existing.status !== "inactive") throw emailTaken();
      if (existing !== undefined && deps.now() - existing.createdAt.getTime() < ACTIVATION_TTL_MS) {
        throw new ApiError(
          409,
          "signup_cooldown",
          "a signup for this email is pending; check your inbox or retry later",
        );
      }
      // Hash before opening the transaction: it takes ~100 ms and needs no lock.
      const passwordHash = await hashNewPassword(body.password, "body.password", deps.passwordParams);
      const { user, token } = await store
        .transaction(async (tx) => {
          if (existing !== undefined) {
            await tx.tokens.revokeForSubject("activation", existing.id);
            await tx.users.hardDelete(existing.id);
          }
          const created = await tx.users.insert({ email, passwordHash, name, status: "inactive" });
          const issued = await tx.tokens.issue("activation", created.id, { ttlSeconds: ACTIVATION_TTL_MS / 1000 });
          return { user: created, token: issued.token };
        })
        .catch((err: unknown) => {
          // Another signup for the address won the race, or a soft-deleted
          // account (hidden from reads until purged) still holds it.
          if (isUniqueViolation(err, "users_email_key")) throw emailTaken();
          throw err;
        });
      deps.mail.send(
        activationEmail({
          to: user.email,
          name: user.name,
          activationUrl: tokenLink(deps.dashboardUrl, "/activate", token),
          expiresInMinutes: ACTIVATION_TTL_MS / 60_000,
        }),
      );
      deps.log.info({ userId: user.id }, "signup: activation email queued");
      return { message: SIGNUP_MESSAGE };
    },

    /** Activates the account of an activation token (usable once) and signs the user in. */
    async activate(tokenText: string): Promise<AuthResponseJson> {
      if (!isOneTimeTokenFormat(tokenText)) throw invalidToken();
      const row = await store.tokens.consume("activation", tokenText);
      if (row === undefined) throw invalidToken();
      if (!(await store.users.activate(row.subjectId))) {
        const user = await store.users.getById(row.subjectId);
        if (user?.status === "active") throw new ApiError(400, "already_activated", "this account is already active");
        throw invalidToken();
      }
      const user = await store.users.getById(row.subjectId);
      if (user === undefined) throw invalidToken();
      const session = await ensureDefaultTeam(store, user);
      return authResponse(deps.jwt, session.user, { teamId: session.team.id, role: session.team.role });
    },
  };
}

/** The service {@link createSignupService} builds. */
export type SignupService = ReturnType<typeof createSignupService>;

function emailTaken(): ApiError {
  return new ApiError(409, "email_taken", "an account with this email already exists");
}
