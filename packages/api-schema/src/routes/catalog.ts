/** The route catalog: every HTTP and WebSocket route of the public API, keyed by operationId. */

import type { TSchema } from "typebox";
import { ErrorBodyShared } from "../error-codes.js";
import { adminRoutes } from "./admin.routes.js";
import { adminCapsuleRoutes } from "./admin-capsules.routes.js";
import { authRoutes } from "./auth.routes.js";
import { capsuleRoutes } from "./capsules.routes.js";
import { channelRoutes } from "./channels.routes.js";
import { fileRoutes } from "./files.routes.js";
import { hostRoutes, snapshotRoutes } from "./hosts.routes.js";
import type { ApiRoute } from "./route.js";
import { teamRoutes } from "./teams.routes.js";

/**
 * Every route of the API. The control plane first registers
 * {@link sharedSchemas} (`app.addSchema`), then one handler per entry
 * (`app.route({ method, url, schema, handler })`, plus `websocket: true` for
 * entries with `websocket`), and `@fastify/swagger` turns the same schemas
 * into `/openapi.yaml`, so routes, validation and documentation share one
 * source. Keys are the operationIds.
 */
export const apiRoutes = {
  ...authRoutes,
  ...teamRoutes,
  ...capsuleRoutes,
  ...fileRoutes,
  ...snapshotRoutes,
  ...hostRoutes,
  ...channelRoutes,
  ...adminRoutes,
  ...adminCapsuleRoutes,
};

/** The operationIds of {@link apiRoutes}. */
export type ApiOperationId = keyof typeof apiRoutes;

/** {@link apiRoutes} as a list, in catalog order (for registration loops). */
export const apiRouteList: readonly ApiRoute[] = Object.values(apiRoutes);

/** The catalog entry of an operationId. */
export function routeByOperationId<TId extends ApiOperationId>(operationId: TId): (typeof apiRoutes)[TId] {
  return apiRoutes[operationId];
}

/**
 * Schemas the catalog's routes refer to by `$ref` (today the error body).
 * Register each with `app.addSchema(schema)` before any catalog route, or
 * Fastify cannot compile the routes' error-response serialisers.
 */
export const sharedSchemas: readonly TSchema[] = [ErrorBodyShared];
