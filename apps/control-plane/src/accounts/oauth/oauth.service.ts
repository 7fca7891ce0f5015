/**
 * Signing in, signing up and linking accounts with GitHub (inventory §5.13,
 * seed fixes 14 and 21). The browser flow:
 *
 * 1. `GET /auth/oauth/github?intent=login|signup` sets the intent-bound
 *    `oauth_state` cookie and redirects to GitHub (a settings page starts a
 *    link flow instead with `GET /v1/me/providers/github/connect`, which also
 *    sets the signed `oauth_link_user_id` cookie).
 * 2. GitHub redirects to `/auth/oauth/github/callback?code&state`; the state
 *    must match the cookie, the code is exchanged for the profile, and the
 *    outcome is a redirect to the dashboard: sign-in cookies on success,
 *    `?error=<code>` otherwise (`access_denied`, `invalid_state`,
 *    `missing_code`, `exchange_failed`, `no_account`, `email_taken`,
 *    `account_deactivated`, `server_error`).
 */
import type { Logger } from "@wrenn/kit";
import type { JwtCodec } from "../../auth/jwt.js";
import type { OAuthCookieSigner, OAuthIntent } from "../../auth/oauth-state.js";
import { ApiError } from "../../http/api-error.js";
import type { UserPrincipal } from "../../http/auth.js";
import { toPublicId } from "../../ids/public-id.js";
import type { AccountsStore } from "../accounts-store.js";
import { authResponse, ensureDefaultTeam } from "../sessions.js";
import { expireCookie, serializeCookie } from "./cookies.js";
import { GitHubOAuthClient, type GitHubOAuthConfig } from "./github-client.js";
import { type LinkOutcome, linkIdentity, signUpWithIdentity } from "./oauth-accounts.js";

/** Cookie names shared with the dashboard (inventory §5.13). */
export const OAUTH_COOKIES = {
  state: "oauth_state",
  linkUser: "oauth_link_user_id",
  token: "wrenn_oauth_token",
  userId: "wrenn_oauth_user_id",
  teamId: "wrenn_oauth_team_id",
  email: "wrenn_oauth_email",
  name: "wrenn_oauth_name",
  newSignup: "wrenn_oauth_new_signup",
} as const;

/** What the OAuth service needs. */
export interface OAuthServiceDeps {
  readonly store: AccountsStore;
  readonly jwt: JwtCodec;
  readonly signer: OAuthCookieSigner;
  readonly log: Logger;
  /** Public base URL of this control plane; the callback is `{publicUrl}/auth/oauth/github/callback`. */
  readonly publicUrl: string;
  /** Dashboard base URL (`OAUTH_REDIRECT_URL`); outcomes land on `{dashboardUrl}/auth/github/callback`. */
  readonly dashboardUrl: string;
  /** The GitHub app; undefined when GitHub sign-in is not configured (every route answers 404). */
  readonly github: GitHubOAuthConfig | undefined;
}

/** A redirect with the cookies to set on it. */
export interface OAuthRedirect {
  readonly location: string;
  readonly cookies: readonly string[];
}

/** What the callback route read from the request. */
export interface OAuthCallbackRequest {
  readonly query: {
    readonly code?: string | undefined;
    readonly state?: string | undefined;
    readonly error?: string | undefined;
  };
  readonly cookies: ReadonlyMap<string, string>;
  /** The request came over HTTPS (cookies get `Secure`). */
  readonly secure: boolean;
}

const STATE_TTL_SECONDS = 600;
const RESULT_TTL_SECONDS = 60;

/** The GitHub OAuth flows. */
export function createOAuthService(deps: OAuthServiceDeps) {
  const dashboardUrl = deps.dashboardUrl.replace(/\/+$/, "");
  const callbackUrl = `${deps.publicUrl.replace(/\/+$/, "")}/auth/oauth/github/callback`;
  const landing = `${dashboardUrl}/auth/github/callback`;
  const settings = `${dashboardUrl}/dashboard/settings`;
  const client = deps.github === undefined ? undefined : new GitHubOAuthClient(deps.github);

  function githubClient(provider: string): GitHubOAuthClient {
    if (provider !== "github" || client === undefined) {
      throw new ApiError(404, "provider_not_found", "this OAuth provider is not available");
    }
    return client;
  }

  const flowCookie = (name: string, value: string, secure: boolean) =>
    serializeCookie(name, value, { maxAgeSeconds: STATE_TTL_SECONDS, httpOnly: true, secure });
  const clearFlow = (secure: boolean) => [
    expireCookie(OAUTH_COOKIES.state, { httpOnly: true, secure }),
    expireCookie(OAUTH_COOKIES.linkUser, { httpOnly: true, secure }),
  ];
  const withQuery = (base: string, key: string, value: string) => {
    const url = new URL(base);
    url.searchParams.set(key, value);
    return url.toString();
  };

  /** The sign-in cookies the dashboard's callback page reads (short-lived, readable by scripts). */
  async function signedIn(userId: string, secure: boolean, newSignup: boolean): Promise<OAuthRedirect> {
    const user = await deps.store.users.getById(userId);
    if (user === undefined || user.status !== "active") {
      return { location: withQuery(landing, "error", "account_deactivated"), cookies: clearFlow(secure) };
    }
    const session = await ensureDefaultTeam(deps.store, user);
    const auth = authResponse(deps.jwt, session.user, { teamId: session.team.id, role: session.team.role });
    const result = (name: string, value: string) =>
      serializeCookie(name, value, { path: "/auth/", maxAgeSeconds: RESULT_TTL_SECONDS, httpOnly: false, secure });
    const cookies = [
      ...clearFlow(secure),
      result(OAUTH_COOKIES.token, auth.token),
      result(OAUTH_COOKIES.userId, auth.user_id),
      result(OAUTH_COOKIES.teamId, auth.team_id),
      result(OAUTH_COOKIES.email, auth.email),
      result(OAUTH_COOKIES.name, auth.name),
      ...(newSignup ? [result(OAUTH_COOKIES.newSignup, "1")] : []),
    ];
    return { location: landing, cookies };
  }

  async function completeCallback(github: GitHubOAuthClient, req: OAuthCallbackRequest): Promise<OAuthRedirect> {
    const fail = (code: string): OAuthRedirect => ({
      location: withQuery(landing, "error", code),
      cookies: clearFlow(req.secure),
    });
    const linking = req.cookies.get(OAUTH_COOKIES.linkUser);
    const linkResult = (outcome: LinkOutcome): OAuthRedirect => ({
      location: outcome.ok
        ? withQuery(settings, "connected", "github")
        : withQuery(settings, "connect_error", outcome.code),
      cookies: clearFlow(req.secure),
    });
    if (req.query.error !== undefined)
      return linking ? linkResult({ ok: false, code: "access_denied" }) : fail("access_denied");
    const state = deps.signer.verifyState(req.cookies.get(OAUTH_COOKIES.state), req.query.state);
    if (!state.ok) {
      deps.log.info({ reason: state.reason }, "oauth callback: state refused");
      return linking ? linkResult({ ok: false, code: "invalid_state" }) : fail("invalid_state");
    }
    if (req.query.code === undefined || req.query.code === "") return fail("missing_code");
    let profile: Awaited<ReturnType<GitHubOAuthClient["exchange"]>>;
    try {
      profile = await github.exchange(req.query.code, callbackUrl);
    } catch (err) {
      deps.log.warn({ err }, "oauth callback: code exchange failed");
      return linking ? linkResult({ ok: false, code: "exchange_failed" }) : fail("exchange_failed");
    }
    if (linking !== undefined) {
      const link = deps.signer.verifyLinkCookie(linking);
      if (!link.ok) return linkResult({ ok: false, code: "invalid_state" });
      return linkResult(await linkIdentity(deps.store, link.userUuid, profile));
    }
    const existing = await deps.store.oauth.find("github", profile.id);
    if (existing !== undefined) return signedIn(existing.userId, req.secure, false);
    if (state.intent === "login") return fail("no_account");
    const signup = await signUpWithIdentity(deps.store, profile);
    if (!signup.ok) return fail(signup.code);
    return signedIn(signup.userId, req.secure, signup.created);
  }

  return {
    /** Step 1: the redirect to GitHub with a fresh intent-bound state (and any stale link flow cleared). */
    redirect(provider: string, intent: OAuthIntent, secure: boolean): OAuthRedirect {
      const github = githubClient(provider);
      const start = deps.signer.createState(intent);
      return {
        location: github.authorizeUrl(start.state, callbackUrl),
        cookies: [
          flowCookie(OAUTH_COOKIES.state, start.cookie, secure),
          expireCookie(OAUTH_COOKIES.linkUser, { httpOnly: true, secure }),
        ],
      };
    },

    /** Starts linking GitHub to the signed-in caller: the URL to open and the flow's cookies. */
    connect(caller: UserPrincipal, provider: string, secure: boolean): { authUrl: string; cookies: string[] } {
      const github = githubClient(provider);
      const start = deps.signer.createLinkFlow(toPublicId("user", caller.userId));
      return {
        authUrl: github.authorizeUrl(start.state, callbackUrl),
        cookies: [
          flowCookie(OAUTH_COOKIES.state, start.cookie, secure),
          flowCookie(OAUTH_COOKIES.linkUser, start.linkCookie, secure),
        ],
      };
    },

    /** Step 2: the callback. Always a redirect; unexpected failures are logged and reported as `server_error`. */
    async callback(provider: string, req: OAuthCallbackRequest): Promise<OAuthRedirect> {
      const github = githubClient(provider);
      try {
        return await completeCallback(github, req);
      } catch (err) {
        deps.log.error({ err }, "oauth callback failed");
        return { location: withQuery(landing, "error", "server_error"), cookies: clearFlow(req.secure) };
      }
    },
  };
}

/** The service {@link createOAuthService} builds. */
export type OAuthService = ReturnType<typeof createOAuthService>;
