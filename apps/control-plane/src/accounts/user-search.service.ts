/**
 * The user search behind the add-member dialog (`GET /v1/users/search`).
 *
 * The reference searched every account by email prefix, which let anyone
 * with an account list the addresses of all users (Appendix B.14). Here a
 * prefix only finds people the caller already shares a team with; anyone
 * else is found only by typing their exact address (which the caller then
 * already knows). That keeps autocomplete useful for re-adding colleagues
 * and inviting a known address, without an address directory.
 */
import type { UserPrincipal } from "../http/auth.js";
import { toPublicId } from "../ids/public-id.js";
import type { UsersRepo } from "../users/users.repo.js";

/** Most results returned. */
export const USER_SEARCH_LIMIT = 10;

/** One search hit. */
export interface UserSearchJson {
  readonly user_id: string;
  readonly email: string;
}

/** What the search needs. */
export interface UserSearchDeps {
  readonly users: UsersRepo;
}

/** The user search. */
export function createUserSearchService(deps: UserSearchDeps) {
  return {
    /**
     * Users matching `query` (an email prefix of ≥ 3 characters containing
     * `@`, checked by the route schema) that the caller may see, at most
     * {@link USER_SEARCH_LIMIT}, by address. Wildcards in `query` match literally.
     */
    async search(caller: UserPrincipal, query: string): Promise<UserSearchJson[]> {
      const found = await deps.users.searchVisibleTo(caller.userId, query.trim(), USER_SEARCH_LIMIT);
      return found.map((u) => ({ user_id: toPublicId("user", u.id), email: u.email }));
    },
  };
}

/** The service {@link createUserSearchService} builds. */
export type UserSearchService = ReturnType<typeof createUserSearchService>;
