import { apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { routeOptions, userOf } from "../http/route-options.js";
import type { TeamService } from "./teams.service.js";

/** What the team routes call. */
export interface TeamRoutesDeps {
  readonly auth: Authenticator;
  readonly teams: TeamService;
}

/** `/v1/teams` and `/v1/teams/{id}/…` (user JWT only; `{id}` must be the JWT's team). */
export function teamRoutes(deps: TeamRoutesDeps): RouteModule {
  const { auth, teams } = deps;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.listTeams, auth),
      handler: async (req) => teams.list(userOf(req)),
    });
    app.route({
      ...routeOptions(apiRoutes.createTeam, auth),
      handler: async (req, reply) => reply.code(201).send(await teams.create(userOf(req), req.body.name)),
    });
    app.route({
      ...routeOptions(apiRoutes.getTeam, auth),
      handler: async (req) => teams.get(userOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.renameTeam, auth),
      handler: async (req, reply) => {
        await teams.rename(userOf(req), req.params.id, req.body.name);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.deleteTeam, auth),
      handler: async (req, reply) => {
        await teams.delete(userOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.listTeamMembers, auth),
      handler: async (req) => teams.listMembers(userOf(req), req.params.id),
    });
    app.route({
      ...routeOptions(apiRoutes.addTeamMember, auth),
      handler: async (req, reply) =>
        reply.code(201).send(await teams.addMember(userOf(req), req.params.id, req.body.email)),
    });
    app.route({
      ...routeOptions(apiRoutes.updateMemberRole, auth),
      handler: async (req, reply) => {
        await teams.updateMemberRole(userOf(req), req.params.id, req.params.uid, req.body.role);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.removeTeamMember, auth),
      handler: async (req, reply) => {
        await teams.removeMember(userOf(req), req.params.id, req.params.uid);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.leaveTeam, auth),
      handler: async (req, reply) => {
        await teams.leave(userOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
  };
}
