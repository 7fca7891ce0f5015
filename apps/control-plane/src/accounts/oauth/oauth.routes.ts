import { apiRoutes } from "@wrenn/api-schema";
import type { FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import type { Authenticator } from "../../http/auth.js";
import { routeOptions, userOf } from "../../http/route-options.js";
import { parseCookies } from "./cookies.js";
import type { OAuthService } from "./oauth.service.js";

/**
 * True when the browser reached us over HTTPS, directly or through a proxy
 * that says so. Only decides the cookies' `Secure` flag, so a client lying
 * about it gains nothing.
 */
function isSecure(req: FastifyRequest): boolean {
  const forwarded = req.headers["x-forwarded-proto"];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim().toLowerCase();
  return req.protocol === "https" || proto === "https";
}

/** The three GitHub OAuth routes (redirect, callback, connect); part of `accountRoutes`. */
export function registerOAuthRoutes(app: App, deps: { auth: Authenticator; oauth: OAuthService }): void {
  const { auth, oauth } = deps;
  app.route({
    ...routeOptions(apiRoutes.oauthRedirect, auth),
    handler: async (req, reply) => {
      const out = oauth.redirect(req.params.provider, req.query.intent ?? "login", isSecure(req));
      return reply.header("set-cookie", out.cookies).header("cache-control", "no-store").redirect(out.location, 302);
    },
  });
  app.route({
    ...routeOptions(apiRoutes.oauthCallback, auth),
    handler: async (req, reply) => {
      const out = await oauth.callback(req.params.provider, {
        query: req.query,
        cookies: parseCookies(req.headers.cookie),
        secure: isSecure(req),
      });
      return reply.header("set-cookie", out.cookies).header("cache-control", "no-store").redirect(out.location, 302);
    },
  });
  app.route({
    ...routeOptions(apiRoutes.connectProvider, auth),
    handler: async (req, reply) => {
      const out = oauth.connect(userOf(req), req.params.provider, isSecure(req));
      return reply
        .header("set-cookie", out.cookies)
        .header("cache-control", "no-store")
        .send({ auth_url: out.authUrl });
    },
  });
}
