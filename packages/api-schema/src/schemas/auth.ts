/**
 * Sign-up, sign-in, account activation, team switching, the current user's
 * profile and password, OAuth provider links (inventory §2.2 "Public" and
 * "Self-service", §5.13).
 */
import Type, { type Static } from "typebox";
import { TeamId, UserId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { DisplayName, Email, OneTimeToken, Password } from "../primitives/strings.js";

/** OAuth providers the platform supports. */
export const OAuthProviderName = Type.Union([Type.Literal("github")], { description: "OAuth provider." });

/**
 * The `{provider}` path segment. Looser than {@link OAuthProviderName} on
 * purpose: an unknown provider must be answered 404 `provider_not_found`, as
 * the reference did, not 400.
 */
export const OAuthProviderParams = Type.Object({
  provider: Type.String({ pattern: "^[a-z0-9-]{1,32}$", maxLength: 32, examples: ["github"] }),
});

/** `POST /v1/auth/signup`. */
export const SignupRequest = Type.Object({ email: Email, password: Password, name: DisplayName });

/** Answer to a sign-up: the account is created inactive until the emailed link is followed. */
export const SignupResponse = Type.Object({
  message: Type.String({ examples: ["Account created. Please check your email to activate your account."] }),
});

/** `POST /v1/auth/login`. The email is not format-checked: a typo gets 401 like a wrong password. */
export const LoginRequest = Type.Object({
  email: Type.String({ minLength: 1, maxLength: LIMITS.emailMaxLength, examples: ["alice@example.com"] }),
  password: Type.String({ minLength: 1, maxLength: LIMITS.password.max }),
});

/** `POST /v1/auth/activate`. */
export const ActivateRequest = Type.Object({ token: OneTimeToken });

/** `POST /v1/auth/switch-team`. */
export const SwitchTeamRequest = Type.Object({ team_id: TeamId });

/** A user JWT (6 hours) and who it speaks for. */
export const AuthResponse = Type.Object({
  token: Type.String({ description: "User JWT, valid for 6 hours.", examples: ["eyJhbGciOiJIUzI1NiJ9.e30.c2ln"] }),
  user_id: UserId,
  team_id: TeamId,
  email: Email,
  name: Type.String({ examples: ["Alice"] }),
});

/** `GET /v1/me`. */
export const MeResponse = Type.Object({
  name: Type.String({ examples: ["Alice"] }),
  email: Email,
  has_password: Type.Boolean({ description: "False for accounts that only sign in through OAuth." }),
  providers: Type.Array(OAuthProviderName, { description: "Linked OAuth providers." }),
});

/** `PATCH /v1/me`: change the display name (a new JWT is returned). */
export const UpdateMeRequest = Type.Object({ name: DisplayName });

/** `DELETE /v1/me`: the confirmation must equal the account's email (case-insensitive). */
export const DeleteMeRequest = Type.Object({
  confirmation: Type.String({ minLength: 1, maxLength: LIMITS.emailMaxLength }),
});

/**
 * `POST /v1/me/password`. With an existing password `current_password` is
 * required; an OAuth-only account adding one sends `confirm_password` instead.
 */
export const ChangePasswordRequest = Type.Object({
  current_password: Type.Optional(Type.String({ maxLength: LIMITS.password.max })),
  new_password: Password,
  confirm_password: Type.Optional(Type.String({ maxLength: LIMITS.password.max })),
});

/** `POST /v1/me/password/reset`: always answered 204, whether or not the account exists. */
export const PasswordResetRequest = Type.Object({ email: Email });

/** `POST /v1/me/password/reset/confirm`. */
export const PasswordResetConfirmRequest = Type.Object({ token: OneTimeToken, new_password: Password });

/** `GET /v1/me/providers/{provider}/connect`: where the browser goes to link the provider. */
export const ConnectProviderResponse = Type.Object({
  auth_url: Type.String({ format: "uri", examples: ["https://github.com/login/oauth/authorize?client_id=x"] }),
});

/** `GET /auth/oauth/{provider}`: whether the user came from the sign-in or the sign-up page. */
export const OAuthRedirectQuery = Type.Object({
  intent: Type.Optional(Type.Union([Type.Literal("login"), Type.Literal("signup")], { default: "login" })),
});

/** `GET /auth/oauth/{provider}/callback`: what the provider appends to the callback URL. */
export const OAuthCallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: LIMITS.tokenMaxLength })),
  state: Type.Optional(Type.String({ maxLength: LIMITS.tokenMaxLength })),
  error: Type.Optional(Type.String({ maxLength: LIMITS.tokenMaxLength })),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link OAuthProviderName}. */
export type OAuthProviderName = Static<typeof OAuthProviderName>;
/** A value matching {@link OAuthProviderParams}. */
export type OAuthProviderParams = Static<typeof OAuthProviderParams>;
/** A value matching {@link SignupRequest}. */
export type SignupRequest = Static<typeof SignupRequest>;
/** A value matching {@link SignupResponse}. */
export type SignupResponse = Static<typeof SignupResponse>;
/** A value matching {@link LoginRequest}. */
export type LoginRequest = Static<typeof LoginRequest>;
/** A value matching {@link ActivateRequest}. */
export type ActivateRequest = Static<typeof ActivateRequest>;
/** A value matching {@link SwitchTeamRequest}. */
export type SwitchTeamRequest = Static<typeof SwitchTeamRequest>;
/** A value matching {@link AuthResponse}. */
export type AuthResponse = Static<typeof AuthResponse>;
/** A value matching {@link MeResponse}. */
export type MeResponse = Static<typeof MeResponse>;
/** A value matching {@link UpdateMeRequest}. */
export type UpdateMeRequest = Static<typeof UpdateMeRequest>;
/** A value matching {@link DeleteMeRequest}. */
export type DeleteMeRequest = Static<typeof DeleteMeRequest>;
/** A value matching {@link ChangePasswordRequest}. */
export type ChangePasswordRequest = Static<typeof ChangePasswordRequest>;
/** A value matching {@link PasswordResetRequest}. */
export type PasswordResetRequest = Static<typeof PasswordResetRequest>;
/** A value matching {@link PasswordResetConfirmRequest}. */
export type PasswordResetConfirmRequest = Static<typeof PasswordResetConfirmRequest>;
/** A value matching {@link ConnectProviderResponse}. */
export type ConnectProviderResponse = Static<typeof ConnectProviderResponse>;
/** A value matching {@link OAuthRedirectQuery}. */
export type OAuthRedirectQuery = Static<typeof OAuthRedirectQuery>;
/** A value matching {@link OAuthCallbackQuery}. */
export type OAuthCallbackQuery = Static<typeof OAuthCallbackQuery>;
