import { apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { principalOf, routeOptions } from "../http/route-options.js";
import type { CapsuleMetricsService } from "./metrics.service.js";
import type { StatsService } from "./stats.service.js";

/**
 * `GET /v1/capsules/{id}/metrics`, `GET /v1/capsules/stats` and `GET
 * /v1/capsules/usage` (API key or user token; always the caller's team).
 */
export function metricsRoutes(deps: {
  readonly auth: Authenticator;
  readonly metrics: CapsuleMetricsService;
  readonly stats: StatsService;
}): RouteModule {
  const { auth, metrics, stats } = deps;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.getCapsuleMetrics, auth),
      handler: async (req) => metrics.get(principalOf(req).teamId, req.params.id, req.query.range ?? "10m"),
    });
    app.route({
      ...routeOptions(apiRoutes.getCapsuleStats, auth),
      handler: async (req) => stats.stats(principalOf(req).teamId, req.query.range ?? "1h"),
    });
    app.route({
      ...routeOptions(apiRoutes.getCapsuleUsage, auth),
      handler: async (req) => stats.usage(principalOf(req).teamId, req.query),
    });
  };
}
