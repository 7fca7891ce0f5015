import { apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { principalOf, routeOptions } from "../http/route-options.js";
import type { CapsuleService } from "./capsule.service.js";
import type { CapsuleExecService } from "./capsule-exec.service.js";

/** What the capsule routes call. */
export interface CapsuleRoutesDeps {
  readonly auth: Authenticator;
  readonly capsules: CapsuleService;
  readonly exec: CapsuleExecService;
}

/** Capsule lifecycle, exec and process routes (thin: each handler calls one service method). */
export function capsuleRoutes(deps: CapsuleRoutesDeps): RouteModule {
  const { auth, capsules, exec } = deps;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.createCapsule, auth),
      handler: async (req, reply) => {
        const created = await capsules.create(principalOf(req), req.body ?? {});
        return reply.code(201).send(created);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.listCapsules, auth),
      handler: async (req) => capsules.list(principalOf(req).teamId),
    });
    app.route({
      ...routeOptions(apiRoutes.getCapsule, auth),
      handler: async (req) => capsules.get(principalOf(req).teamId, req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.destroyCapsule, auth),
      handler: async (req, reply) => {
        await capsules.destroy(principalOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.pauseCapsule, auth),
      handler: async (req) => capsules.pause(principalOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.resumeCapsule, auth),
      handler: async (req) => capsules.resume(principalOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.pingCapsule, auth),
      handler: async (req, reply) => {
        await capsules.ping(principalOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.execCommand, auth),
      handler: async (req, reply) => {
        const outcome = await exec.exec(principalOf(req), req.params.id, req.body);
        return reply.code(outcome.status).send(outcome.body);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.listProcesses, auth),
      handler: async (req) => exec.listProcesses(principalOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.killProcess, auth),
      handler: async (req, reply) => {
        await exec.killProcess(principalOf(req), req.params.id, req.params.selector, req.query.signal ?? "SIGKILL");
        return reply.code(204).send(null);
      },
    });
  };
}
