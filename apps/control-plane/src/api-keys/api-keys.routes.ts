import { apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { routeOptions, userOf } from "../http/route-options.js";
import type { ApiKeyService } from "./api-keys.service.js";

/** What the API key routes call. */
export interface ApiKeyRoutesDeps {
  readonly auth: Authenticator;
  readonly apiKeys: ApiKeyService;
}

/** `POST/GET /v1/api-keys` and `DELETE /v1/api-keys/{id}` (user JWT only; the team is the JWT's). */
export function apiKeyRoutes(deps: ApiKeyRoutesDeps): RouteModule {
  const { auth, apiKeys } = deps;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.createAPIKey, auth),
      handler: async (req, reply) => reply.code(201).send(await apiKeys.create(userOf(req), req.body?.name)),
    });
    app.route({
      ...routeOptions(apiRoutes.listAPIKeys, auth),
      handler: async (req) => apiKeys.list(userOf(req)),
    });
    app.route({
      ...routeOptions(apiRoutes.deleteAPIKey, auth),
      handler: async (req, reply) => {
        await apiKeys.revoke(userOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
  };
}
