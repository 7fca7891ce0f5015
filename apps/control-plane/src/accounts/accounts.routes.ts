import { apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import type { Authenticator } from "../http/auth.js";
import { routeOptions, userOf } from "../http/route-options.js";
import type { AccountServices } from "./account-services.js";
import { registerOAuthRoutes } from "./oauth/oauth.routes.js";
import type { OAuthService } from "./oauth/oauth.service.js";

/** What the account routes call. */
export interface AccountRoutesDeps {
  readonly auth: Authenticator;
  readonly accounts: AccountServices;
  readonly oauth: OAuthService;
}

/**
 * Sign-up, activation, login, team switching, the `/v1/me` self-service
 * routes, password reset and GitHub OAuth (`/auth/oauth/…`, mounted without
 * `/v1` as in the reference).
 */
export function accountRoutes(deps: AccountRoutesDeps): RouteModule {
  const { auth } = deps;
  const { signup, login, password, me } = deps.accounts;
  return (app) => {
    app.route({
      ...routeOptions(apiRoutes.signup, auth),
      handler: async (req, reply) => reply.code(201).send(await signup.signup(req.body)),
    });
    app.route({
      ...routeOptions(apiRoutes.activate, auth),
      handler: async (req) => signup.activate(req.body.token),
    });
    app.route({
      ...routeOptions(apiRoutes.login, auth),
      handler: async (req) => login.login(req.body),
    });
    app.route({
      ...routeOptions(apiRoutes.switchTeam, auth),
      handler: async (req) => login.switchTeam(userOf(req), req.body.team_id),
    });
    app.route({
      ...routeOptions(apiRoutes.getMe, auth),
      handler: async (req) => me.get(userOf(req)),
    });
    app.route({
      ...routeOptions(apiRoutes.updateName, auth),
      handler: async (req) => me.updateName(userOf(req), req.body.name),
    });
    app.route({
      ...routeOptions(apiRoutes.deleteAccount, auth),
      handler: async (req, reply) => {
        await me.deleteAccount(userOf(req), req.body.confirmation);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.changePassword, auth),
      handler: async (req, reply) => {
        await password.changePassword(userOf(req), req.body);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.requestPasswordReset, auth),
      handler: async (req, reply) => {
        await password.requestReset(req.body.email);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.confirmPasswordReset, auth),
      handler: async (req, reply) => {
        await password.confirmReset(req.body.token, req.body.new_password);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.disconnectProvider, auth),
      handler: async (req, reply) => {
        await me.disconnectProvider(userOf(req), req.params.provider);
        return reply.code(204).send(null);
      },
    });
    registerOAuthRoutes(app, { auth, oauth: deps.oauth });
  };
}
