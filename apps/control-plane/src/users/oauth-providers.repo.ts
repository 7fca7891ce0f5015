/**
 * OAuth identities linked to users (`oauth_providers`): one per provider
 * account, at most one account per provider for each user.
 */
import type { Queryable } from "../db/database.js";
import { firstRow, onlyRow } from "../db/sql.js";

/** A provider account linked to a user. */
export interface OAuthLink {
  /** e.g. "github" */
  readonly provider: string;
  /** The provider's id of the account (GitHub's numeric id as text). */
  readonly providerId: string;
  readonly userId: string;
  readonly email: string;
  readonly createdAt: Date;
}

const COLUMNS = `provider, provider_id AS "providerId", user_id AS "userId", email, created_at AS "createdAt"`;

/** Repository of `oauth_providers`. Pass the database or a transaction. */
export function createOAuthProvidersRepo(db: Queryable) {
  return {
    /**
     * Links a provider account to a user. Throws a unique violation on
     * `oauth_providers_pkey` when the account is linked to someone already, or
     * on `oauth_providers_user_provider_key` when the user has an account of
     * that provider.
     */
    async link(link: { provider: string; providerId: string; userId: string; email?: string }): Promise<OAuthLink> {
      const result = await db.query<OAuthLink>(
        `INSERT INTO oauth_providers (provider, provider_id, user_id, email) VALUES ($1, $2, $3, $4)
         RETURNING ${COLUMNS}`,
        [link.provider, link.providerId, link.userId, link.email ?? ""],
      );
      return onlyRow(result);
    },

    /** The link of this provider account, whoever it belongs to. */
    async find(provider: string, providerId: string): Promise<OAuthLink | undefined> {
      return firstRow(
        await db.query<OAuthLink>(`SELECT ${COLUMNS} FROM oauth_providers WHERE provider = $1 AND provider_id = $2`, [
          provider,
          providerId,
        ]),
      );
    },

    /** The user's links, by provider name. */
    async listForUser(userId: string): Promise<OAuthLink[]> {
      const result = await db.query<OAuthLink>(
        `SELECT ${COLUMNS} FROM oauth_providers WHERE user_id = $1 ORDER BY provider`,
        [userId],
      );
      return result.rows;
    },

    /** Removes the user's link to `provider`; false when there was none. */
    async unlink(userId: string, provider: string): Promise<boolean> {
      const result = await db.query("DELETE FROM oauth_providers WHERE user_id = $1 AND provider = $2", [
        userId,
        provider,
      ]);
      return result.rowCount === 1;
    },
  };
}

/** What `createOAuthProvidersRepo` returns. */
export type OAuthProvidersRepo = ReturnType<typeof createOAuthProvidersRepo>;
