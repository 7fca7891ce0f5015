/**
 * HS256 JSON Web Tokens (compact JWS) for users and hosts, on `node:crypto` only.
 *
 * Two kinds share one secret, so each verifier checks the kind: a user token
 * carries no `typ` claim and a `team_id`; a host token carries `typ: "host"`.
 * Verification never throws on input: every rejection is a {@link JwtFailure}.
 * The algorithm is fixed (HS256) rather than read from the token, which is what
 * closes the `alg: none` and algorithm-confusion holes.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import { PlatformError } from "@wrenn/kit";
import { parsePublicId } from "../ids/public-id.js";
import { decodeJwtPart, isRecord, type JwtFailure, splitCompactJws } from "./jwt-parts.js";

export type { JwtFailure } from "./jwt-parts.js";

/** A member's role in a team. */
export type TeamRole = "owner" | "admin" | "member";
const ROLES: ReadonlySet<unknown> = new Set<TeamRole>(["owner", "admin", "member"]);

/** True for one of the three team roles. */
export function isTeamRole(value: unknown): value is TeamRole {
  return ROLES.has(value);
}

/** Claims of a user token (dashboard and API sessions). Ids are public ids. */
export interface UserTokenClaims {
  /** The user, `usr-…`. */
  readonly sub: string;
  /** The team the session acts in, `team-…` (switching team issues a new token). */
  readonly team_id: string;
  readonly role: TeamRole;
  readonly email: string;
  readonly name: string;
  /** Present (and true) only for platform administrators. */
  readonly is_admin?: true;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
}

/** Claims of a host agent's token. `sub` repeats `host_id`. */
export interface HostTokenClaims {
  readonly typ: "host";
  readonly host_id: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
}

/** What a user token is issued for. */
export interface UserTokenSubject {
  readonly userId: string;
  readonly teamId: string;
  readonly role: TeamRole;
  readonly email: string;
  readonly name: string;
  readonly isAdmin?: boolean;
}

/** A verified token: its claims plus the UUIDs behind the public ids, ready for database lookups. */
export type VerifiedUserToken = {
  readonly ok: true;
  readonly claims: UserTokenClaims;
  readonly userUuid: string;
  readonly teamUuid: string;
};
/** A verified host token with the host's UUID. */
export type VerifiedHostToken = { readonly ok: true; readonly claims: HostTokenClaims; readonly hostUuid: string };
/** A rejected token. `reason` is for logs; clients should only learn "unauthenticated". */
export type RejectedToken = { readonly ok: false; readonly reason: JwtFailure };

/** Options of {@link JwtCodec}. */
export interface JwtCodecOptions {
  /** The HMAC secret (`JWT_SECRET`); at least 32 characters. */
  readonly secret: string;
  /** Clock in milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Tolerated clock difference for `exp`, `iat` and `nbf`, in seconds. @default 30 */
  readonly clockSkewSeconds?: number;
  /** User token lifetime in seconds. @default 21600 (6 h; there is no refresh, the user logs in again) */
  readonly userTtlSeconds?: number;
  /** Host token lifetime in seconds. @default 604800 (7 days; agents refresh with their refresh token) */
  readonly hostTtlSeconds?: number;
}

/** Minimum secret length, in characters. */
export const JWT_SECRET_MIN_LENGTH = 32;

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
const SIGNATURE_BYTES = 32;

/** Signs and verifies user and host tokens with one secret. */
export class JwtCodec {
  readonly #key: KeyObject;
  readonly #now: () => number;
  readonly #skew: number;
  readonly #userTtl: number;
  readonly #hostTtl: number;

  /** @throws PlatformError `invalid_argument` / `JWT_SECRET_TOO_SHORT` (the message never contains the secret). */
  constructor(options: JwtCodecOptions) {
    if (typeof options.secret !== "string" || options.secret.length < JWT_SECRET_MIN_LENGTH) {
      throw new PlatformError(
        "invalid_argument",
        "JWT_SECRET_TOO_SHORT",
        `the JWT secret must be at least ${JWT_SECRET_MIN_LENGTH} characters`,
      );
    }
    this.#key = createSecretKey(Buffer.from(options.secret, "utf8"));
    this.#now = options.now ?? Date.now;
    this.#skew = options.clockSkewSeconds ?? 30;
    this.#userTtl = options.userTtlSeconds ?? 6 * 3600;
    this.#hostTtl = options.hostTtlSeconds ?? 7 * 86400;
  }

  /**
   * Issues a user token.
   * @throws TypeError when the ids are not `usr-…`/`team-…` public ids or the role is unknown (programming errors).
   */
  signUser(subject: UserTokenSubject): string {
    if (!parsePublicId("user", subject.userId).ok || !parsePublicId("team", subject.teamId).ok) {
      throw new TypeError("signUser: userId and teamId must be usr-/team- public ids");
    }
    if (!isTeamRole(subject.role)) throw new TypeError("signUser: unknown role");
    const iat = this.#nowSeconds();
    const claims: UserTokenClaims = {
      sub: subject.userId,
      team_id: subject.teamId,
      role: subject.role,
      email: subject.email,
      name: subject.name,
      ...(subject.isAdmin === true ? { is_admin: true as const } : {}),
      iat,
      exp: iat + this.#userTtl,
    };
    return this.#sign(claims);
  }

  /**
   * Issues a host agent token.
   * @throws TypeError when `hostId` is not a `host-…` public id.
   */
  signHost(hostId: string): string {
    if (!parsePublicId("host", hostId).ok) throw new TypeError("signHost: hostId must be a host- public id");
    const iat = this.#nowSeconds();
    const claims: HostTokenClaims = { typ: "host", host_id: hostId, sub: hostId, iat, exp: iat + this.#hostTtl };
    return this.#sign(claims);
  }

  /** Verifies a user token; host tokens are rejected with `wrong_type`. Never throws. */
  verifyUser(token: unknown): VerifiedUserToken | RejectedToken {
    const checked = this.#verify(token);
    if (!checked.ok) return checked;
    const { payload: c, iat, exp } = checked;
    if ("typ" in c) return { ok: false, reason: "wrong_type" };
    const { sub, team_id, role, email, name, is_admin } = c;
    const user = parsePublicId("user", sub);
    const team = parsePublicId("team", team_id);
    if (!user.ok || !team.ok || typeof sub !== "string" || typeof team_id !== "string") {
      return { ok: false, reason: "invalid_claims" };
    }
    if (!isTeamRole(role) || typeof email !== "string" || typeof name !== "string") {
      return { ok: false, reason: "invalid_claims" };
    }
    if (is_admin !== undefined && typeof is_admin !== "boolean") return { ok: false, reason: "invalid_claims" };
    const claims: UserTokenClaims = { sub, team_id, role, email, name, ...(is_admin ? { is_admin } : {}), iat, exp };
    return { ok: true, claims, userUuid: user.uuid, teamUuid: team.uuid };
  }

  /** Verifies a host token; user tokens are rejected with `wrong_type`. Never throws. */
  verifyHost(token: unknown): VerifiedHostToken | RejectedToken {
    const checked = this.#verify(token);
    if (!checked.ok) return checked;
    const { payload: c, iat, exp } = checked;
    if (c["typ"] !== "host") return { ok: false, reason: "wrong_type" };
    const { host_id, sub } = c;
    const host = parsePublicId("host", host_id);
    if (!host.ok || typeof host_id !== "string" || sub !== host_id) return { ok: false, reason: "invalid_claims" };
    return { ok: true, claims: { typ: "host", host_id, sub: host_id, iat, exp }, hostUuid: host.uuid };
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  #sign(claims: UserTokenClaims | HostTokenClaims): string {
    const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    return `${signingInput}.${createHmac("sha256", this.#key).update(signingInput).digest("base64url")}`;
  }

  /** Structure, algorithm, signature and time checks shared by both kinds. */
  #verify(token: unknown): VerifiedPayload | RejectedToken {
    const parts = splitCompactJws(token);
    if (!parts) return { ok: false, reason: "malformed" };
    const header = decodeJwtPart(parts.header);
    if (!isRecord(header)) return { ok: false, reason: "malformed" };
    // Only HS256, and no extensions we would be required to understand.
    if (header["alg"] !== "HS256" || "crit" in header) return { ok: false, reason: "unsupported_algorithm" };
    if (header["typ"] !== undefined && header["typ"] !== "JWT") return { ok: false, reason: "malformed" };

    const signature = Buffer.from(parts.signature, "base64url");
    if (signature.length !== SIGNATURE_BYTES || signature.toString("base64url") !== parts.signature) {
      return { ok: false, reason: "bad_signature" };
    }
    const expected = createHmac("sha256", this.#key).update(`${parts.header}.${parts.payload}`).digest();
    if (!timingSafeEqual(signature, expected)) return { ok: false, reason: "bad_signature" };

    const payload = decodeJwtPart(parts.payload);
    if (!isRecord(payload)) return { ok: false, reason: "malformed" };
    const { iat, exp, nbf } = payload;
    if (!isSeconds(iat) || !isSeconds(exp) || (nbf !== undefined && !isSeconds(nbf))) {
      return { ok: false, reason: "invalid_claims" };
    }
    const now = this.#nowSeconds();
    if (now > exp + this.#skew) return { ok: false, reason: "expired" };
    if (iat > now + this.#skew || (nbf !== undefined && nbf > now + this.#skew)) {
      return { ok: false, reason: "not_yet_valid" };
    }
    return { ok: true, payload, iat, exp };
  }
}

type VerifiedPayload = { ok: true; payload: Record<string, unknown>; iat: number; exp: number };

function isSeconds(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
