/**
 * The repositories the account, team and API-key services work with, bound
 * either to the database or to one transaction. Services receive an
 * {@link AccountsStore} instead of separate repos so that multi-row changes
 * (an OAuth signup creating a user, a team and a link; an account deletion)
 * can run in a transaction with the very same repository code.
 */
import { type ApiKeysRepo, createApiKeysRepo } from "../api-keys/api-keys.repo.js";
import type { Database, Queryable } from "../db/database.js";
import { createTeamsRepo, type TeamsRepo } from "../teams/teams.repo.js";
import { createTokensRepo, type TokensRepo } from "../tokens/tokens.repo.js";
import { createOAuthProvidersRepo, type OAuthProvidersRepo } from "../users/oauth-providers.repo.js";
import { createUsersRepo, type UsersRepo } from "../users/users.repo.js";

/** The account repositories on one `Queryable`. */
export interface AccountsRepos {
  readonly users: UsersRepo;
  readonly teams: TeamsRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly oauth: OAuthProvidersRepo;
  readonly tokens: TokensRepo;
}

/** The account repositories on the database, plus a way to run several in one transaction. */
export interface AccountsStore extends AccountsRepos {
  /**
   * Runs `fn` in a transaction with repositories bound to it; rolls back if
   * `fn` throws. Inside `fn`, use only the repositories it is given (the
   * database refuses other queries until the transaction ends).
   */
  transaction<T>(fn: (repos: AccountsRepos) => Promise<T>): Promise<T>;
}

/** Binds every account repository to `db`. */
export function accountsRepos(db: Queryable): AccountsRepos {
  return {
    users: createUsersRepo(db),
    teams: createTeamsRepo(db),
    apiKeys: createApiKeysRepo(db),
    oauth: createOAuthProvidersRepo(db),
    tokens: createTokensRepo(db),
  };
}

/** The store of the account services over `db`. */
export function createAccountsStore(db: Database): AccountsStore {
  return {
    ...accountsRepos(db),
    transaction: (fn) => db.transaction((tx) => fn(accountsRepos(tx))),
  };
}
