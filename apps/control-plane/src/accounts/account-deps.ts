/**
 * What the account services share: the store, the JWT codec, mail, the
 * dashboard's base URL and a clock.
 */
import type { Logger } from "@wrenn/kit";
import type { JwtCodec } from "../auth/jwt.js";
import { DEFAULT_SCRYPT_PARAMS, type ScryptParams } from "../auth/password.js";
import type { AccountsStore } from "./accounts-store.js";
import type { MailDispatch } from "./mail-dispatch.js";

/** Dependencies of the account services (signup, login, password, profile). */
export interface AccountServiceDeps {
  readonly store: AccountsStore;
  readonly jwt: JwtCodec;
  /** Account emails (activation, reset, notifications) go through it, in the background. */
  readonly mail: MailDispatch;
  readonly log: Logger;
  /**
   * Base URL of the dashboard (`OAUTH_REDIRECT_URL`): activation links are
   * `{dashboardUrl}/activate?token=…`, reset links `{dashboardUrl}/reset-password?token=…`.
   */
  readonly dashboardUrl: string;
  /** Clock in ms since the epoch (token expiry, signup cooldown). @default Date.now */
  readonly now?: () => number;
  /** scrypt cost of new password hashes; older hashes are upgraded at login. @default DEFAULT_SCRYPT_PARAMS */
  readonly passwordParams?: ScryptParams;
}

/** {@link AccountServiceDeps} with defaults applied. */
export interface ResolvedAccountDeps extends AccountServiceDeps {
  readonly now: () => number;
  readonly passwordParams: ScryptParams;
}

/** Applies the defaults of {@link AccountServiceDeps}. */
export function resolveAccountDeps(deps: AccountServiceDeps): ResolvedAccountDeps {
  return {
    ...deps,
    dashboardUrl: deps.dashboardUrl.replace(/\/+$/, ""),
    now: deps.now ?? Date.now,
    passwordParams: deps.passwordParams ?? DEFAULT_SCRYPT_PARAMS,
  };
}

/** `{base}{path}?token={token}`: the link of an activation or reset email. */
export function tokenLink(base: string, path: string, token: string): string {
  const url = new URL(`${base}${path}`);
  url.searchParams.set("token", token);
  return url.toString();
}
