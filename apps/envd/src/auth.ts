import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { EnvdState } from "./envd-state.js";
import type { UserDatabase, UserInfo } from "./users.js";

/** Header carrying the envd access token (set by /init). */
export const ACCESS_TOKEN_HEADER = "x-access-token";

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** True when no token is configured or the request carries the right one. */
export function hasValidAccessToken(headers: IncomingHttpHeaders, state: EnvdState): boolean {
  if (state.accessToken === undefined) return true;
  const sent = headers[ACCESS_TOKEN_HEADER];
  return typeof sent === "string" && safeEqual(sent, state.accessToken);
}

/**
 * The user named by `Authorization: Basic base64("<user>:")`, as the e2b SDK
 * sends it. Returns undefined when the header is absent or not Basic.
 */
export function basicAuthUsername(header: string | null | undefined): string | undefined {
  if (typeof header !== "string") return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const name = colon === -1 ? decoded : decoded.slice(0, colon);
  return name === "" ? undefined : name;
}

/** Resolves the request's user: the explicit name if any, else the default user. Throws UnknownUserError. */
export function resolveUser(users: UserDatabase, state: EnvdState, explicit: string | undefined): UserInfo {
  return users.lookup(explicit ?? state.defaultUser);
}

/** A file operation a signed URL can grant. */
export type SignedOperation = "read" | "write";

/**
 * The signature the e2b SDK computes for signed file URLs:
 * `v1_` + base64(sha256("path:operation:user:token[:expiration]")) without padding.
 */
export function fileSignature(opts: {
  path: string;
  operation: SignedOperation;
  username: string;
  token: string;
  expiration?: number | undefined;
}): string {
  const parts = [opts.path, opts.operation, opts.username, opts.token];
  if (opts.expiration !== undefined) parts.push(String(opts.expiration));
  const digest = createHash("sha256").update(parts.join(":")).digest("base64");
  return `v1_${digest.replace(/=+$/, "")}`;
}

/** Why a signed-URL check failed; undefined means it passed. */
export type SignatureProblem = "missing" | "invalid" | "expired" | "bad_expiration";

/** Verifies a signed file URL's query parameters against the configured token. */
export function checkFileSignature(opts: {
  token: string;
  path: string;
  operation: SignedOperation;
  username: string;
  signature: string | undefined;
  expiration: string | undefined;
  nowSeconds: number;
}): SignatureProblem | undefined {
  if (!opts.signature) return "missing";
  let expiration: number | undefined;
  if (opts.expiration !== undefined && opts.expiration !== "") {
    if (!/^\d{1,12}$/.test(opts.expiration)) return "bad_expiration";
    expiration = Number(opts.expiration);
  }
  const expected = fileSignature({
    path: opts.path,
    operation: opts.operation,
    username: opts.username,
    token: opts.token,
    expiration,
  });
  if (!safeEqual(expected, opts.signature)) return "invalid";
  if (expiration !== undefined && expiration < opts.nowSeconds) return "expired";
  return undefined;
}
