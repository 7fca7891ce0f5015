/**
 * A real control plane for the metrics and audit routes: `buildApp` with the
 * real authenticator, the metrics, stats and audit route modules and a fresh
 * migrated PGlite database, on 127.0.0.1:0, driven with plain `fetch`. No
 * agent runs here (running capsules are covered end to end). @internal
 */
import type { AddressInfo } from "node:net";
import { silentLogger } from "@wrenn/kit";
import pino from "pino";
import { createApiKeysRepo } from "../../api-keys/api-keys.repo.js";
import { buildApp } from "../../app.js";
import { createAuditRepo } from "../../audit/audit.repo.js";
import { auditRoutes } from "../../audit/audit.routes.js";
import { generateApiKey } from "../../auth/api-key.js";
import { JwtCodec, type TeamRole } from "../../auth/jwt.js";
import { createCapsuleAccess } from "../../capsules/capsule-access.js";
import { createCapsulesRepo } from "../../capsules/capsules.repo.js";
import { HostClientPool } from "../../hosts/host-client-pool.js";
import { createHostsRepo } from "../../hosts/hosts.repo.js";
import { createAuthenticator } from "../../http/auth.js";
import { toPublicId } from "../../ids/public-id.js";
import { createTeamsRepo, type Team } from "../../teams/teams.repo.js";
import { type TestDatabase, usePglite } from "../../testing/databases.js";
import { createTestTeam, createTestUser } from "../../testing/repo-fixtures.js";
import { createUsersRepo } from "../../users/users.repo.js";
import { createMetricPointsRepo } from "../metric-points.repo.js";
import { createMetricsRepo } from "../metrics.repo.js";
import { metricsRoutes } from "../metrics.routes.js";
import { createCapsuleMetricsService } from "../metrics.service.js";
import { createStatsService } from "../stats.service.js";
import { createUsageRepo } from "../usage.repo.js";

/** A user acting in one team, with a JWT, and the team's API key. @internal */
export interface MetricsTestSession {
  readonly token: string;
  readonly apiKey: string;
  readonly team: Team;
}

/** A running app. @internal */
export interface MetricsApp extends AsyncDisposable {
  readonly db: TestDatabase;
  /** A user in a new team of their own (owner) unless `team` is given, where they join with `role`. */
  session(options?: { team?: Team; role?: TeamRole; isAdmin?: boolean }): Promise<MetricsTestSession>;
  /** GET `path`; `token` becomes `Authorization: Bearer`, `apiKey` the `X-API-Key` header. */
  get(path: string, auth: { token?: string; apiKey?: string }): Promise<Response>;
  /** Pins the stats service's clock (undefined: the real clock again), so "today" cannot move mid-test. */
  setNow(ms: number | undefined): void;
}

const SECRET = "metrics-test-secret-metrics-test-secret-0";

/** Starts the app. @internal */
export async function startMetricsApp(): Promise<MetricsApp> {
  const db = await usePglite();
  const jwt = new JwtCodec({ secret: SECRET });
  const teams = createTeamsRepo(db);
  const apiKeys = createApiKeysRepo(db);
  const auth = createAuthenticator({ jwt, users: createUsersRepo(db), teams, apiKeys });
  const pool = new HostClientPool({ tls: () => undefined });
  const access = createCapsuleAccess({ capsules: createCapsulesRepo(db), hosts: createHostsRepo(db), pool });
  const metrics = createCapsuleMetricsService({ access, points: createMetricPointsRepo(db), log: silentLogger });
  let pinned: number | undefined;
  const stats = createStatsService({
    metrics: createMetricsRepo(db),
    usage: createUsageRepo(db),
    now: () => pinned ?? Date.now(),
  });
  const { app } = await buildApp({
    version: "test",
    logger: pino({ level: "silent" }),
    routes: [metricsRoutes({ auth, metrics, stats }), auditRoutes({ auth, audit: createAuditRepo(db) })],
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  return {
    setNow(ms) {
      pinned = ms;
    },
    db,
    async session(o = {}) {
      const user = await createTestUser(db, { isAdmin: o.isAdmin ?? false });
      const team = o.team ?? (await createTestTeam(db, { ownerId: user.id }));
      if (o.team !== undefined) await teams.addMember({ teamId: team.id, userId: user.id, role: o.role ?? "member" });
      const key = generateApiKey();
      await apiKeys.insert({
        teamId: team.id,
        name: "t",
        keyHash: key.hash,
        keyPrefix: key.prefix,
        createdBy: user.id,
      });
      const token = jwt.signUser({
        userId: toPublicId("user", user.id),
        teamId: toPublicId("team", team.id),
        role: o.team === undefined ? "owner" : (o.role ?? "member"),
        email: user.email,
        name: user.name,
        isAdmin: user.isAdmin,
      });
      return { token, apiKey: key.plaintext, team };
    },
    get(path, a) {
      const headers: Record<string, string> = {};
      if (a.token !== undefined) headers["authorization"] = `Bearer ${a.token}`;
      if (a.apiKey !== undefined) headers["x-api-key"] = a.apiKey;
      return fetch(`${base}${path}`, { headers });
    },
    async [Symbol.asyncDispose]() {
      await app.close();
      await pool[Symbol.asyncDispose]();
      await db[Symbol.asyncDispose]();
    },
  };
}
