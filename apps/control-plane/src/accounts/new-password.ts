/**
 * New passwords: the length policy as API errors, and hashing. The route
 * schemas already bound the length in characters; the policy also bounds the
 * UTF-8 size, which a 1024-character string of emoji would exceed.
 */
import { checkPasswordPolicy, hashPassword, PASSWORD_MAX_BYTES, type ScryptParams } from "../auth/password.js";
import { invalidRequest } from "../http/api-error.js";

/** Throws 400 `invalid_request` when `password` breaks the policy (names the field, never echoes it). */
export function assertNewPasswordAcceptable(password: string, field: string): void {
  const failure = checkPasswordPolicy(password);
  if (failure === "too_short") throw invalidRequest(`${field} must be at least 8 characters`);
  if (failure === "too_long") throw invalidRequest(`${field} must be at most ${PASSWORD_MAX_BYTES} bytes`);
}

/** Checks the policy, then hashes. */
export async function hashNewPassword(password: string, field: string, params: ScryptParams): Promise<string> {
  assertNewPasswordAcceptable(password, field);
  return hashPassword(password, params);
}
