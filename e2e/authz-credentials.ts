/**
 * Credentials that must never authenticate, for the authorization matrix:
 * absent, malformed, unknown, forged, expired, of the wrong kind, and of users
 * who are disabled or deleted — each with the answer the API documents.
 */
import { randomBytes } from "node:crypto";
import { JwtCodec } from "../apps/control-plane/src/auth/jwt.js";
import { toPublicId } from "../apps/control-plane/src/ids/public-id.js";
import { createTeamsRepo } from "../apps/control-plane/src/teams/teams.repo.js";
import { createTestUser } from "../apps/control-plane/src/testing/repo-fixtures.js";
import type { MatrixWorld } from "./matrix-world.js";
import type { Stack } from "./stack.js";

/** One refused credential: the headers it is sent in, and the documented answer. */
export interface BadCredential {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly status: 401 | 403;
  readonly code: "unauthorized" | "account_deactivated";
  /** The same credential as a WebSocket's first `{"type":"auth"}` token, when it is a token at all. */
  readonly token?: unknown;
}

/** User JWTs that must not authenticate, plus the users behind them. */
export interface RefusedTokens {
  readonly otherSecret: string;
  readonly expired: string;
  readonly disabledUser: string;
  readonly deletedUser: string;
}

/**
 * Makes a disabled and a soft-deleted member of team A and signs refused
 * tokens: one with another secret, one that expired an hour ago (both for
 * team A's owner), and valid ones of the disabled and deleted members.
 */
export async function refusedTokens(s: Stack, world: MatrixWorld): Promise<RefusedTokens> {
  const teams = createTeamsRepo(s.db);
  const member = async (status: "disabled" | "deleted") => {
    const user = await createTestUser(s.db);
    await teams.addMember({ teamId: s.teamA.teamId, userId: user.id, role: "member" });
    await s.db.query(
      `UPDATE users SET status = $2, deleted_at = CASE WHEN $2 = 'deleted' THEN now() END WHERE id = $1`,
      [user.id, status],
    );
    return world.jwtFor(user.id, s.teamA.teamId, "member");
  };
  const ownerA = {
    userId: toPublicId("user", s.teamA.userId),
    teamId: toPublicId("team", s.teamA.teamId),
    role: "owner" as const,
    email: "matrix@example.com",
    name: "Matrix",
  };
  const forger = new JwtCodec({ secret: "not-the-control-plane-secret".padEnd(40, "y") });
  // The codec's clock is 7 hours behind: its 6-hour tokens expired an hour ago.
  const stale = new JwtCodec({ secret: "e2e-secret-".padEnd(40, "x"), now: () => Date.now() - 7 * 3600_000 });
  return {
    otherSecret: forger.signUser(ownerA),
    expired: stale.signUser(ownerA),
    disabledUser: await member("disabled"),
    deletedUser: await member("deleted"),
  };
}

const unauthorized = { status: 401, code: "unauthorized" } as const;

/** Every refused credential for user routes (`key_or_jwt`, `jwt`, `admin`). */
export function badUserCredentials(tokens: RefusedTokens, hostToken: string): BadCredential[] {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return [
    { name: "no credentials", headers: {}, ...unauthorized },
    { name: "a malformed API key", headers: { "x-api-key": "not-a-key" }, ...unauthorized },
    {
      name: "a well-formed unknown wrn_ key",
      headers: { "x-api-key": `wrn_${randomBytes(16).toString("hex")}` },
      ...unauthorized,
    },
    { name: "Authorization that is not Bearer", headers: { authorization: "Basic bWU6cGFzcw==" }, ...unauthorized },
    { name: "a bearer that is not a JWT", headers: bearer("not.a.jwt"), token: "not.a.jwt", ...unauthorized },
    {
      name: "a JWT signed with another secret",
      headers: bearer(tokens.otherSecret),
      token: tokens.otherSecret,
      ...unauthorized,
    },
    { name: "an expired JWT", headers: bearer(tokens.expired), token: tokens.expired, ...unauthorized },
    { name: "a host token as a user JWT", headers: bearer(hostToken), token: hostToken, ...unauthorized },
    {
      name: "the JWT of a deleted user",
      headers: bearer(tokens.deletedUser),
      token: tokens.deletedUser,
      ...unauthorized,
    },
    {
      name: "the JWT of a disabled user",
      headers: bearer(tokens.disabledUser),
      token: tokens.disabledUser,
      status: 403,
      code: "account_deactivated",
    },
  ];
}

/** Every refused credential for host routes (`X-Host-Token`). */
export function badHostCredentials(s: Stack, tokens: RefusedTokens): BadCredential[] {
  const stale = new JwtCodec({ secret: "e2e-secret-".padEnd(40, "x"), now: () => Date.now() - 8 * 86_400_000 });
  return [
    { name: "no host token", headers: {}, ...unauthorized },
    { name: "a host token that is not a JWT", headers: { "x-host-token": "not.a.jwt" }, ...unauthorized },
    { name: "a user JWT as host token", headers: { "x-host-token": tokens.disabledUser }, ...unauthorized },
    {
      name: "an expired host token",
      headers: { "x-host-token": stale.signHost(toPublicId("host", s.hostId)) },
      ...unauthorized,
    },
  ];
}
