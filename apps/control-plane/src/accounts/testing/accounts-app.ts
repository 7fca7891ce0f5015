/**
 * A real control plane for the account, team, API key and user routes: the
 * app from `buildApp`, these route modules, the real authenticator and
 * services, and a fresh migrated PGlite database. Listens on 127.0.0.1:0 and
 * is driven with plain `fetch`. Mail is recorded in memory, audit entries
 * too, and team capsule clean-up calls are recorded (or fail on demand).
 */
import type { AddressInfo } from "node:net";
import { silentLogger } from "@wrenn/kit";
import pino from "pino";
import { createApiKeysRepo } from "../../api-keys/api-keys.repo.js";
import { apiKeyRoutes } from "../../api-keys/api-keys.routes.js";
import { createApiKeyService } from "../../api-keys/api-keys.service.js";
import { buildApp } from "../../app.js";
import { MemoryAuditSink } from "../../audit/audit-sink.js";
import { JwtCodec } from "../../auth/jwt.js";
import { OAuthCookieSigner } from "../../auth/oauth-state.js";
import { hashPassword, type ScryptParams } from "../../auth/password.js";
import { createAuthenticator } from "../../http/auth.js";
import { toPublicId } from "../../ids/public-id.js";
import type { Mailer } from "../../mail/mailer.js";
import { teamRoutes } from "../../teams/teams.routes.js";
import { createTeamService } from "../../teams/teams.service.js";
import { type TestDatabase, usePglite } from "../../testing/databases.js";
import { uniqueEmail } from "../../testing/repo-fixtures.js";
import type { User } from "../../users/users.repo.js";
import { userRoutes } from "../../users/users.routes.js";
import { createAccountServices } from "../account-services.js";
import { accountRoutes, defaultAccountLimits } from "../accounts.routes.js";
import { type AccountsStore, createAccountsStore } from "../accounts-store.js";
import { createMailDispatch, type MailDispatch } from "../mail-dispatch.js";
import type { GitHubOAuthConfig } from "../oauth/github-client.js";
import { createOAuthService } from "../oauth/oauth.service.js";
import { ensureDefaultTeam } from "../sessions.js";
import { createUserSearchService } from "../user-search.service.js";
import { RecordingMailer } from "./recording-mailer.js";

/** The JWT secret of test apps. */
export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123";
/** Cheapest scrypt cost the password module accepts: keeps tests fast. */
export const TEST_SCRYPT: ScryptParams = { logN: 10, r: 8, p: 1 };
/** Dashboard base URL of test apps. */
export const TEST_DASHBOARD_URL = "https://dash.wrenn.test";
/** Public URL of test apps (OAuth callbacks name it; tests re-target it at the real port). */
export const TEST_PUBLIC_URL = "https://cp.wrenn.test";

/** Options of {@link startAccountsApp}. */
export interface AccountsAppOptions {
  readonly github?: GitHubOAuthConfig;
  /** Service clock (signup cooldown). @default Date.now */
  readonly now?: () => number;
  /** Request body limit. @default 1 MiB (the app default) */
  readonly bodyLimit?: number;
  /** Where mail really goes (e.g. an SmtpMailer to a fake SMTP server). @default the recording mailer */
  readonly mailer?: Mailer;
}

/** A signed-in test user. */
export interface TestSession {
  readonly user: User;
  readonly password: string;
  /** JWT for `teamId`. */
  readonly token: string;
  /** Public ids. */
  readonly userId: string;
  readonly teamId: string;
  /** UUID of the team. */
  readonly teamUuid: string;
}

/** A running app and handles on what it records. */
export interface AccountsApp extends AsyncDisposable {
  readonly base: string;
  readonly db: TestDatabase;
  readonly store: AccountsStore;
  readonly jwt: JwtCodec;
  readonly mailer: RecordingMailer;
  readonly mail: MailDispatch;
  readonly audit: MemoryAuditSink;
  /** UUIDs of teams whose capsules were destroyed, in order. */
  readonly destroyedTeams: string[];
  /** When set, `destroyTeamCapsules` rejects with it (a host outage). */
  capsuleCleanupFailure: Error | undefined;
  /** An active user with a password and their personal team, signed in (bypasses signup for speed). */
  createUser(fields?: { email?: string; name?: string; password?: string; isAdmin?: boolean }): Promise<TestSession>;
  /** A JWT for `user` in `teamUuid` with `role`, as switch-team would issue. */
  tokenFor(user: User, teamUuid: string, role: "owner" | "admin" | "member"): string;
}

/** Starts the app over a fresh PGlite database. Dispose it to stop both. */
export async function startAccountsApp(options: AccountsAppOptions = {}): Promise<AccountsApp> {
  const db = await usePglite();
  const store = createAccountsStore(db);
  const jwt = new JwtCodec({ secret: TEST_JWT_SECRET });
  const mailer = new RecordingMailer();
  const mail = createMailDispatch({ mailer: options.mailer ?? mailer, log: silentLogger });
  const audit = new MemoryAuditSink();
  const destroyedTeams: string[] = [];
  const auth = createAuthenticator({
    jwt,
    users: store.users,
    teams: store.teams,
    apiKeys: createApiKeysRepo(db),
  });
  const common = { store, mail, log: silentLogger, dashboardUrl: TEST_DASHBOARD_URL };
  const harness = {
    capsuleCleanupFailure: undefined as Error | undefined,
  };
  const teams = createTeamService({
    ...common,
    audit,
    destroyTeamCapsules: async (teamId) => {
      if (harness.capsuleCleanupFailure !== undefined) throw harness.capsuleCleanupFailure;
      destroyedTeams.push(teamId);
    },
  });
  const accounts = createAccountServices({
    ...common,
    jwt,
    teams,
    passwordParams: TEST_SCRYPT,
    ...(options.now ? { now: options.now } : {}),
  });
  const oauth = createOAuthService({
    store,
    jwt,
    signer: new OAuthCookieSigner(TEST_JWT_SECRET),
    log: silentLogger,
    publicUrl: TEST_PUBLIC_URL,
    dashboardUrl: TEST_DASHBOARD_URL,
    github: options.github,
  });
  const { app } = await buildApp({
    version: "0.0.0-test",
    logger: pino({ level: "silent" }),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    routes: [
      accountRoutes({ auth, accounts, oauth, limits: defaultAccountLimits(options.now) }),
      teamRoutes({ auth, teams }),
      apiKeyRoutes({ auth, apiKeys: createApiKeyService({ apiKeys: store.apiKeys, audit, log: silentLogger }) }),
      userRoutes({ auth, search: createUserSearchService({ users: store.users }) }),
    ],
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;

  const tokenFor = (user: User, teamUuid: string, role: "owner" | "admin" | "member") =>
    jwt.signUser({
      userId: toPublicId("user", user.id),
      teamId: toPublicId("team", teamUuid),
      role,
      email: user.email,
      name: user.name,
      isAdmin: user.isAdmin,
    });

  return Object.assign(harness, {
    base: `http://127.0.0.1:${port}`,
    db,
    store,
    jwt,
    mailer,
    mail,
    audit,
    destroyedTeams,
    tokenFor,
    async createUser(fields: { email?: string; name?: string; password?: string; isAdmin?: boolean } = {}) {
      const password = fields.password ?? "correct horse battery";
      const inserted = await store.users.insert({
        email: fields.email ?? uniqueEmail(),
        name: fields.name ?? "Test User",
        passwordHash: await hashPassword(password, TEST_SCRYPT),
        isAdmin: fields.isAdmin ?? false,
      });
      const { team, user } = await ensureDefaultTeam(store, inserted);
      return {
        user,
        password,
        token: tokenFor(user, team.id, team.role),
        userId: toPublicId("user", user.id),
        teamId: toPublicId("team", team.id),
        teamUuid: team.id,
      };
    },
    async [Symbol.asyncDispose]() {
      await app.close();
      await mail.drain();
      await db.close();
    },
  });
}
