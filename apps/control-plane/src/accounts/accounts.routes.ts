import { apiRoutes } from "@wrenn/api-schema";
import type { RouteModule } from "../app.js";
import { ApiError } from "../http/api-error.js";
import { AttemptLimiter } from "../http/attempt-limiter.js";
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
  /** Attempt limits per account. @default {@link defaultAccountLimits} */
  readonly limits?: AccountLimits;
}

/** Per-account attempt limits of the password routes (brute force, mail bombing). */
export interface AccountLimits {
  /** Failed sign-ins per email address. */
  readonly login: AttemptLimiter;
  /** Failed password changes (wrong current password) per user. */
  readonly changePassword: AttemptLimiter;
  /** Reset mails requested per email address. */
  readonly resetMail: AttemptLimiter;
}

/** 10 failed sign-ins or password changes per 15 minutes; 5 reset mails per hour. */
export function defaultAccountLimits(now?: () => number): AccountLimits {
  const clock = now ? { now } : {};
  return {
    login: new AttemptLimiter({ limit: 10, windowMs: 15 * 60_000, what: "failed sign-ins for this account", ...clock }),
    changePassword: new AttemptLimiter({
      limit: 10,
      windowMs: 15 * 60_000,
      what: "wrong current passwords",
      ...clock,
    }),
    resetMail: new AttemptLimiter({ limit: 5, windowMs: 60 * 60_000, what: "reset mails for this address", ...clock }),
  };
}

/** Counts a failure of `run` (an ApiError of status 401/403) against `key`; success clears it when `clear`. */
async function limited<T>(limiter: AttemptLimiter, key: string, run: () => Promise<T>, clear: boolean): Promise<T> {
  limiter.check(key);
  try {
    const result = await run();
    if (clear) limiter.reset(key);
    return result;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) limiter.hit(key);
    throw err;
  }
}

/**
 * Sign-up, activation, login, team switching, the `/v1/me` self-service
 * routes, password reset and GitHub OAuth (`/auth/oauth/…`, mounted without
 * `/v1` as in the reference).
 */
export function accountRoutes(deps: AccountRoutesDeps): RouteModule {
  const { auth } = deps;
  const limits = deps.limits ?? defaultAccountLimits();
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
      handler: async (req) =>
        limited(limits.login, req.body.email.trim().toLowerCase(), () => login.login(req.body), true),
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
        const user = userOf(req);
        await limited(limits.changePassword, user.userId, () => password.changePassword(user, req.body), false);
        return reply.code(204).send(null);
      },
    });
    app.route({
      ...routeOptions(apiRoutes.requestPasswordReset, auth),
      handler: async (req, reply) => {
        const email = req.body.email.trim().toLowerCase();
        limits.resetMail.check(email);
        limits.resetMail.hit(email);
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
