/**
 * A real control plane for the host routes: `buildApp`, the hosts module
 * (routes, registration, monitor), the real authenticator, an internal CA
 * and a fresh migrated PGlite database, listening on 127.0.0.1:0 and driven
 * with plain `fetch`. The host client pool speaks plain HTTP (no agent runs
 * here; the end-to-end tests cover mTLS to a real agent). @internal
 */
import type { AddressInfo } from "node:net";
import { silentLogger } from "@wrenn/kit";
import pino from "pino";
import { createApiKeysRepo } from "../../api-keys/api-keys.repo.js";
import { buildApp } from "../../app.js";
import { MemoryAuditSink } from "../../audit/audit-sink.js";
import { JwtCodec, type TeamRole } from "../../auth/jwt.js";
import { createCapsulesRepo } from "../../capsules/capsules.repo.js";
import { createAuthenticator } from "../../http/auth.js";
import { toPublicId } from "../../ids/public-id.js";
import { InternalCa } from "../../pki/internal-ca.js";
import { createTeamsRepo, type Team } from "../../teams/teams.repo.js";
import { type TestDatabase, usePglite } from "../../testing/databases.js";
import { createTestTeam, createTestUser } from "../../testing/repo-fixtures.js";
import { createUsersRepo } from "../../users/users.repo.js";
import { HostClientPool } from "../host-client-pool.js";
import type { HostMonitor } from "../host-monitor.js";
import { createHostsModule, type HostMonitorTiming } from "../hosts.module.js";

/** A signed-in user acting in one team. @internal */
export interface HostsTestSession {
  /** User JWT for the team. */
  readonly token: string;
  readonly userId: string;
  readonly team: Team;
  /** `team-…` */
  readonly teamPublicId: string;
}

/** A running app. @internal */
export interface HostsApp extends AsyncDisposable {
  readonly base: string;
  readonly db: TestDatabase;
  readonly ca: InternalCa;
  readonly jwt: JwtCodec;
  readonly audit: MemoryAuditSink;
  readonly monitor: HostMonitor;
  /**
   * A user in a team: a new team of their own (owner) unless `team` is
   * given, where they join with `role`. `byoc` enables BYOC on the new team.
   */
  session(options?: { isAdmin?: boolean; team?: Team; role?: TeamRole; byoc?: boolean }): Promise<HostsTestSession>;
  /** `fetch` against the app; `token` becomes `Authorization: Bearer`, `json` the body. */
  call(
    path: string,
    init?: { method?: string; token?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
}

const SECRET = "hosts-test-secret-hosts-test-secret-0123";

/** Starts the app. @internal */
export async function startHostsApp(options: { monitor?: HostMonitorTiming } = {}): Promise<HostsApp> {
  const db = await usePglite();
  const ca = await InternalCa.create();
  const jwt = new JwtCodec({ secret: SECRET });
  const users = createUsersRepo(db);
  const teams = createTeamsRepo(db);
  const auth = createAuthenticator({ jwt, users, teams, apiKeys: createApiKeysRepo(db) });
  const pool = new HostClientPool({ tls: () => undefined });
  const audit = new MemoryAuditSink();
  const hosts = createHostsModule({
    db,
    pool,
    ca,
    jwt,
    auth,
    teams,
    capsules: createCapsulesRepo(db),
    audit,
    log: silentLogger,
    monitor: { rpcTimeoutMs: 2000, ...options.monitor },
  });
  const { app } = await buildApp({ version: "test", logger: pino({ level: "silent" }), routes: [hosts.routes] });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  return {
    base,
    db,
    ca,
    jwt,
    audit,
    monitor: hosts.monitor,
    async session(o = {}) {
      const user = await createTestUser(db, { isAdmin: o.isAdmin ?? false });
      let team = o.team;
      if (team === undefined) {
        team = await createTestTeam(db, { ownerId: user.id });
        if (o.byoc) {
          await teams.enableByoc(team.id);
          team = { ...team, isByoc: true };
        }
      } else {
        await teams.addMember({ teamId: team.id, userId: user.id, role: o.role ?? "member" });
      }
      const role = o.team === undefined ? "owner" : (o.role ?? "member");
      const teamPublicId = toPublicId("team", team.id);
      const token = jwt.signUser({
        userId: toPublicId("user", user.id),
        teamId: teamPublicId,
        role,
        email: user.email,
        name: user.name,
        isAdmin: user.isAdmin,
      });
      return { token, userId: user.id, team, teamPublicId };
    },
    call(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token !== undefined) headers["authorization"] = `Bearer ${init.token}`;
      if (init.json !== undefined) headers["content-type"] = "application/json";
      return fetch(`${base}${path}`, {
        method: init.method ?? (init.json === undefined ? "GET" : "POST"),
        headers,
        ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
      });
    },
    async [Symbol.asyncDispose]() {
      await hosts.monitor[Symbol.asyncDispose]();
      await app.close();
      await pool[Symbol.asyncDispose]();
      await db[Symbol.asyncDispose]();
    },
  };
}
