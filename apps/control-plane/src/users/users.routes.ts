import { apiRoutes } from "@wrenn/api-schema";
import type { UserSearchService } from "../accounts/user-search.service.js";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { routeOptions, userOf } from "../http/route-options.js";

/** What the user routes call. */
export interface UserRoutesDeps {
  readonly auth: Authenticator;
  readonly search: UserSearchService;
}

/** `GET /v1/users/search` (user JWT). */
export function userRoutes(deps: UserRoutesDeps): RouteModule {
  const { auth, search } = deps;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.searchUsers, auth),
      handler: async (req) => search.search(userOf(req), req.query.email),
    });
  };
}
