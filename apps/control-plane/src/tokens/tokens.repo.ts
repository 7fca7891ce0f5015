/**
 * One-time tokens (`one_time_tokens`), the PostgreSQL replacement for the
 * reference's Redis keys with a TTL: account activation (30 min), password
 * reset (15 min) and host registration (1 h).
 *
 * Only the SHA-256 of a token is stored: a leaked table cannot be replayed.
 * Consuming is one `DELETE … RETURNING` that also checks expiry, so a token
 * works once even when two requests race (Redis GETDEL semantics). Expired
 * rows are inert and removed by `pruneExpired`.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Queryable } from "../db/database.js";
import { firstRow, json, onlyRow } from "../db/sql.js";

/** What a token is for; a token of one purpose never works for another. */
export type TokenPurpose = "activation" | "password_reset" | "host_registration";

/** Lifetime of each kind of token, in seconds. */
export const TOKEN_TTL_SECONDS: Readonly<Record<TokenPurpose, number>> = Object.freeze({
  activation: 30 * 60,
  password_reset: 15 * 60,
  host_registration: 60 * 60,
});

/** A freshly issued token: give `token` to its recipient; it is not stored. */
export interface IssuedToken {
  /** 64 hex characters (32 random bytes). */
  readonly token: string;
  readonly expiresAt: Date;
}

/** What a consumed token was issued for. */
export interface ConsumedToken {
  /** The user (activation, password reset) or host (registration) the token was issued for. */
  readonly subjectId: string;
  readonly payload: Record<string, unknown>;
}

/** The stored form of a token: hex SHA-256 of its text. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Repository of `one_time_tokens`. Pass the database or a transaction. */
export function createTokensRepo(db: Queryable) {
  return {
    /**
     * Issues a token for `subjectId`, valid for `TOKEN_TTL_SECONDS[purpose]`
     * (or `ttlSeconds`), with an optional payload returned on consumption
     * (e.g. the host-token record id for registration).
     */
    async issue(
      purpose: TokenPurpose,
      subjectId: string,
      options: { payload?: Record<string, unknown>; ttlSeconds?: number } = {},
    ): Promise<IssuedToken> {
      const token = randomBytes(32).toString("hex");
      const result = await db.query<{ expiresAt: Date }>(
        `INSERT INTO one_time_tokens (token_hash, purpose, subject_id, payload, expires_at)
         VALUES ($1, $2, $3, $4::jsonb, now() + make_interval(secs => $5))
         RETURNING expires_at AS "expiresAt"`,
        [
          hashToken(token),
          purpose,
          subjectId,
          json(options.payload ?? {}),
          options.ttlSeconds ?? TOKEN_TTL_SECONDS[purpose],
        ],
      );
      return { token, expiresAt: onlyRow(result).expiresAt };
    },

    /**
     * Spends a token: removes it and returns what it was issued for, if it
     * exists, has this purpose and has not expired. Undefined otherwise
     * (unknown, used, expired or another purpose: callers answer all alike).
     */
    async consume(purpose: TokenPurpose, token: string): Promise<ConsumedToken | undefined> {
      const result = await db.query<ConsumedToken>(
        `DELETE FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > now()
         RETURNING subject_id AS "subjectId", payload`,
        [hashToken(token), purpose],
      );
      return firstRow(result);
    },

    /** Invalidates every token of `purpose` issued for `subjectId` (e.g. a regenerated host token); returns how many. */
    async revokeForSubject(purpose: TokenPurpose, subjectId: string): Promise<number> {
      const result = await db.query("DELETE FROM one_time_tokens WHERE purpose = $1 AND subject_id = $2", [
        purpose,
        subjectId,
      ]);
      return result.rowCount;
    },

    /** Deletes expired tokens; returns how many. */
    async pruneExpired(): Promise<number> {
      return (await db.query("DELETE FROM one_time_tokens WHERE expires_at <= now()")).rowCount;
    },
  };
}

/** What `createTokensRepo` returns. */
export type TokensRepo = ReturnType<typeof createTokensRepo>;
