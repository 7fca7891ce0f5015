import { apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { principalOf, routeOptions } from "../http/route-options.js";
import type { SnapshotService } from "./snapshots.service.js";

/** `/v1/snapshots`: snapshot a capsule into a team template, list templates, delete one. */
export function snapshotRoutes(deps: {
  readonly auth: Authenticator;
  readonly snapshots: SnapshotService;
}): RouteModule {
  const { auth, snapshots } = deps;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.createSnapshot, auth),
      handler: async (req, reply) =>
        reply.code(201).send(await snapshots.create(principalOf(req), req.body, req.query.overwrite === true)),
    });
    app.route({
      ...routeOptions(apiRoutes.listSnapshots, auth),
      handler: async (req) => snapshots.list(principalOf(req).teamId, req.query.type),
    });
    app.route({
      ...routeOptions(apiRoutes.deleteSnapshot, auth),
      handler: async (req, reply) => {
        await snapshots.delete(principalOf(req), req.params.name);
        return reply.code(204).send(null);
      },
    });
  };
}
