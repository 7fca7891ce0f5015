import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { apiRoutes } from "@wrenn/api-schema";
import type { FastifyRequest } from "fastify";
import type { RouteModule } from "../app.js";
import { unauthorized } from "../http/api-error.js";
import type { Authenticator } from "../http/auth.js";
import { routeOptions, userOf } from "../http/route-options.js";
import type { HostRegistrationService } from "./host-registration.service.js";
import type { HostsService } from "./hosts.service.js";

/** What the host routes call. */
export interface HostRoutesDeps {
  readonly auth: Authenticator;
  readonly hosts: HostsService;
  readonly registration: HostRegistrationService;
}

/** The host id (UUID) the `X-Host-Token` of a `host` route carried. */
function tokenHostOf(req: FastifyRequest): string {
  if (req.hostId === undefined) throw unauthorized("invalid or expired host token");
  return req.hostId;
}

/**
 * Host routes (inventory §2.2 "Hosts"): the user-facing ones (JWT) and the
 * three the host agent calls (registration and refresh carry their token in
 * the body; heartbeats use `X-Host-Token`). Thin: one service call each.
 */
export function hostRoutes(deps: HostRoutesDeps): RouteModule {
  const { auth, hosts, registration } = deps;
  return async (app) => {
    app.route({
      ...routeOptions(apiRoutes.createHost, auth),
      handler: async (req, reply) => reply.code(201).send(await hosts.create(userOf(req), req.body)),
    });
    app.route({
      ...routeOptions(apiRoutes.listHosts, auth),
      handler: async (req) => hosts.list(userOf(req)),
    });
    app.route({
      ...routeOptions(apiRoutes.getHost, auth),
      handler: async (req) => hosts.get(userOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.deleteHost, auth),
      handler: async (req, reply) => {
        await hosts.delete(userOf(req), req.params.id, req.query.force ?? false);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.getHostDeletePreview, auth),
      handler: async (req) => hosts.deletePreview(userOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.regenerateHostToken, auth),
      handler: async (req, reply) => reply.code(201).send(await hosts.regenerateToken(userOf(req), req.params.id)),
    });
    app.route({
      ...routeOptions(apiRoutes.listHostTags, auth),
      handler: async (req) => hosts.listTags(userOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.addHostTag, auth),
      handler: async (req, reply) => {
        await hosts.addTag(userOf(req), req.params.id, req.body.tag);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.removeHostTag, auth),
      handler: async (req, reply) => {
        await hosts.removeTag(userOf(req), req.params.id, req.params.tag);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.registerHost, auth),
      handler: async (req, reply) => reply.code(201).send(await registration.register(req.body)),
    });
    app.route({
      ...routeOptions(apiRoutes.refreshHostToken, auth),
      handler: async (req) => registration.refresh(req.body.refresh_token),
    });
    // Agents post heartbeats with `Content-Type: application/json` and no body, which
    // Fastify's JSON parser refuses (400): in this route's own scope the body is read up to
    // a small limit and ignored.
    await app.register(async (scope) => {
      scope.removeContentTypeParser("application/json");
      scope.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: 1024 }, (_req, _body, done) =>
        done(null, undefined),
      );
      scope.withTypeProvider<TypeBoxTypeProvider>().route({
        ...routeOptions(apiRoutes.hostHeartbeat, auth),
        handler: async (req, reply) => {
          await registration.heartbeat(tokenHostOf(req), req.params.id);
          return reply.code(204).send(null);
        },
      });
    });
  };
}
