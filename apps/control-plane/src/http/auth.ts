import type { IncomingHttpHeaders } from "node:http";
import type { ApiKeysRepo } from "../api-keys/api-keys.repo.js";
import { apiKeyLookupHash } from "../auth/api-key.js";
import type { JwtCodec, TeamRole } from "../auth/jwt.js";
import { toPublicId } from "../ids/public-id.js";
import type { TeamsRepo } from "../teams/teams.repo.js";
import type { UsersRepo } from "../users/users.repo.js";
import { ApiError, forbidden, unauthorized } from "./api-error.js";

/** A signed-in user acting in one team (the team of their JWT). Ids are UUIDs. */
export interface UserPrincipal {
  readonly kind: "user";
  readonly userId: string;
  readonly teamId: string;
  /** The role in `teamId`, read from the database (not the token). */
  readonly role: TeamRole;
  readonly email: string;
  readonly name: string;
  /** Platform administrator, read from the database. */
  readonly isAdmin: boolean;
}

/** A team API key. */
export interface ApiKeyPrincipal {
  readonly kind: "api_key";
  readonly apiKeyId: string;
  readonly teamId: string;
  readonly name: string;
}

/** Who is calling a team-scoped route. */
export type Principal = UserPrincipal | ApiKeyPrincipal;

/** The actor recorded in audit logs for a principal. */
export function actorOf(p: Principal): { type: "user" | "api_key"; id: string; name: string } {
  return p.kind === "user"
    ? { type: "user", id: toPublicId("user", p.userId), name: p.name }
    : { type: "api_key", id: toPublicId("apiKey", p.apiKeyId), name: p.name };
}

/** What the authenticator reads. */
export interface AuthenticatorDeps {
  readonly jwt: JwtCodec;
  readonly users: UsersRepo;
  readonly teams: TeamsRepo;
  readonly apiKeys: ApiKeysRepo;
  /** `last_used` is written at most this often per key. @default 60 s */
  readonly lastUsedWriteIntervalMs?: number;
  readonly now?: () => number;
}

/**
 * Resolves request credentials to a principal (inventory §2.1), re-checking
 * the database every time: a disabled user is refused (403
 * `account_deactivated`) and a user removed from the token's team loses
 * access at once, although their JWT is still valid for hours. Every failure
 * says only what the caller may know ("invalid API key", "invalid or expired
 * token"); details go to the logs through `cause`.
 */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const interval = deps.lastUsedWriteIntervalMs ?? 60_000;
  const now = deps.now ?? Date.now;

  async function fromApiKey(presented: string): Promise<ApiKeyPrincipal> {
    const hash = apiKeyLookupHash(presented);
    const key = hash === undefined ? undefined : await deps.apiKeys.getByHash(hash);
    if (key === undefined) throw unauthorized("invalid API key");
    // One write per key per interval, not per request: hot keys would
    // otherwise turn every read into a row update.
    if (key.lastUsed === null || now() - key.lastUsed.getTime() >= interval) {
      await deps.apiKeys.touchLastUsed(key.id);
    }
    return { kind: "api_key", apiKeyId: key.id, teamId: key.teamId, name: key.name };
  }

  async function fromJwt(token: string): Promise<UserPrincipal> {
    const verified = deps.jwt.verifyUser(token);
    if (!verified.ok) throw unauthorized("invalid or expired token");
    const user = await deps.users.getById(verified.userUuid);
    if (user === undefined) throw unauthorized("user not found");
    if (user.status !== "active") throw new ApiError(403, "account_deactivated", "this account is deactivated");
    const membership = await deps.teams.getMembership(verified.teamUuid, user.id);
    if (membership === undefined) throw forbidden("you are no longer a member of this team; sign in again");
    return {
      kind: "user",
      userId: user.id,
      teamId: verified.teamUuid,
      role: membership.role,
      email: user.email,
      name: user.name,
      isAdmin: user.isAdmin,
    };
  }

  return {
    /** `X-API-Key` first, else `Authorization: Bearer`; neither → 401. */
    async keyOrJwt(headers: IncomingHttpHeaders): Promise<Principal> {
      const key = headerValue(headers["x-api-key"]);
      if (key !== undefined) return fromApiKey(key);
      const bearer = bearerToken(headers);
      if (bearer !== undefined) return fromJwt(bearer);
      throw unauthorized("missing credentials: send X-API-Key or Authorization: Bearer <token>");
    },
    /** A user JWT only. */
    async jwt(headers: IncomingHttpHeaders): Promise<UserPrincipal> {
      const bearer = bearerToken(headers);
      if (bearer === undefined) throw unauthorized("missing credentials: send Authorization: Bearer <token>");
      return fromJwt(bearer);
    },
    /** A user JWT of a platform administrator (re-checked in the database). */
    async admin(headers: IncomingHttpHeaders): Promise<UserPrincipal> {
      const user = await this.jwt(headers);
      if (!user.isAdmin) throw forbidden("admin access required");
      return user;
    },
    /** A user JWT given as a WebSocket's first message (API keys must use the header). */
    async wsToken(token: unknown): Promise<UserPrincipal> {
      if (typeof token !== "string" || token === "") throw unauthorized("missing token");
      return fromJwt(token);
    },
    /** `X-Host-Token`: the host's UUID. */
    hostToken(headers: IncomingHttpHeaders): string {
      const token = headerValue(headers["x-host-token"]);
      const verified = token === undefined ? undefined : deps.jwt.verifyHost(token);
      if (verified === undefined || !verified.ok) throw unauthorized("invalid or expired host token");
      return verified.hostUuid;
    },
  };
}

/** The authenticator {@link createAuthenticator} builds. */
export type Authenticator = ReturnType<typeof createAuthenticator>;

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === "" ? undefined : v;
}

function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const auth = headerValue(headers.authorization);
  if (auth === undefined) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (m === null) throw unauthorized("Authorization must be 'Bearer <token>'");
  return m[1];
}
