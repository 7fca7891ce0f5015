/**
 * A whole Wrenn in one test process: a real host agent (namespace runtime,
 * real capsules), the control plane on an embedded PGlite database, and a
 * team with an API key — talked to over real HTTP and WebSockets.
 */
import { hostname } from "node:os";
import pino from "pino";
import { RecordingMailer } from "../apps/control-plane/src/accounts/testing/recording-mailer.js";
import { createApiKeysRepo } from "../apps/control-plane/src/api-keys/api-keys.repo.js";
import { MemoryAuditSink } from "../apps/control-plane/src/audit/audit-sink.js";
import { generateApiKey } from "../apps/control-plane/src/auth/api-key.js";
import { type ControlPlane, createControlPlane } from "../apps/control-plane/src/control-plane.js";
import { ControlPlaneTls } from "../apps/control-plane/src/hosts/control-plane-tls.js";
import { HostClientPool } from "../apps/control-plane/src/hosts/host-client-pool.js";
import type { HostMonitorTiming } from "../apps/control-plane/src/hosts/hosts.module.js";
import { createHostsRepo } from "../apps/control-plane/src/hosts/hosts.repo.js";
import { toPublicId } from "../apps/control-plane/src/ids/public-id.js";
import { InternalCa } from "../apps/control-plane/src/pki/internal-ca.js";
import { type TestDatabase, usePglite } from "../apps/control-plane/src/testing/databases.js";
import { createTestTeam, createTestUser } from "../apps/control-plane/src/testing/repo-fixtures.js";
import { startTestAgent, type TestAgent } from "../apps/host-agent/src/agent/agent-test-helpers.js";

/** One team's credentials. */
export interface TeamCredentials {
  readonly teamId: string;
  readonly userId: string;
  readonly apiKey: string;
}

/** A control plane without any host: database, CA, host client pool, app, teams and an admin. */
export interface ControlPlaneStack extends AsyncDisposable {
  readonly base: string;
  readonly port: number;
  readonly db: TestDatabase;
  readonly cp: ControlPlane;
  readonly audit: MemoryAuditSink;
  /** The internal CA agents' certificates come from. */
  readonly ca: InternalCa;
  readonly pool: HostClientPool;
  /** Team A and team B, each with an owner and an API key. */
  readonly teamA: TeamCredentials;
  readonly teamB: TeamCredentials;
  /** A platform admin (in a team of their own) and their user JWT. */
  readonly admin: { readonly userId: string; readonly token: string };
  /** fetch against the control plane with team A's key (override headers to change). */
  api(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
}

/** Options of {@link startControlPlaneStack}. */
export interface ControlPlaneStackOptions {
  /** Dial agents over mTLS with a client certificate from the stack's CA. @default false: plain HTTP */
  readonly mtls?: boolean;
  /** Start the host monitor with this timing. @default not started */
  readonly monitor?: HostMonitorTiming;
}

/** The running stack. Dispose destroys everything it made. */
export interface Stack extends ControlPlaneStack {
  readonly agent: TestAgent;
  /** The agent's host row (UUID), registered directly in the database. */
  readonly hostId: string;
}

/** True where the stack can run: root (namespaces, nftables) with the guest image cached or buildable. */
export const stackSkipReason = process.getuid?.() === 0 ? false : "needs root for the namespace runtime";

async function makeTeam(db: TestDatabase): Promise<TeamCredentials> {
  const user = await createTestUser(db);
  const team = await createTestTeam(db, { ownerId: user.id });
  const key = generateApiKey();
  await createApiKeysRepo(db).insert({
    teamId: team.id,
    name: "e2e",
    keyHash: key.hash,
    keyPrefix: key.prefix,
    createdBy: user.id,
  });
  return { teamId: team.id, userId: user.id, apiKey: key.plaintext };
}

/**
 * Starts the database and the control plane (listening on 127.0.0.1:0) with
 * two teams and a platform admin. No host exists: tests register their own.
 */
export async function startControlPlaneStack(options: ControlPlaneStackOptions = {}): Promise<ControlPlaneStack> {
  const db = await usePglite();
  const ca = await InternalCa.create();
  const clientTls = options.mtls ? await ControlPlaneTls.start(ca) : undefined;
  const pool = new HostClientPool({ tls: () => clientTls?.current });
  const audit = new MemoryAuditSink();
  const mailer = new RecordingMailer();
  const cp = await createControlPlane({
    config: {
      jwtSecret: "e2e-secret-".padEnd(40, "x"),
      domain: "localhost",
      publicUrl: "http://localhost",
      dashboardUrl: "http://localhost",
      github: undefined,
    },
    mailer,
    db,
    logger: pino({ level: process.env["E2E_LOG"] ?? "silent", base: { host: hostname() } }),
    version: "e2e",
    pool,
    audit,
    ca,
    ...(options.monitor ? { hostMonitor: options.monitor } : {}),
  });
  await cp.app.listen({ port: 0, host: "127.0.0.1" });
  if (options.monitor) cp.hostMonitor.start();
  const port = (cp.app.server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const teamA = await makeTeam(db);
  const teamB = await makeTeam(db);
  const adminUser = await createTestUser(db, { isAdmin: true });
  const adminTeam = await createTestTeam(db, { ownerId: adminUser.id });
  const adminToken = cp.jwt.signUser({
    userId: toPublicId("user", adminUser.id),
    teamId: toPublicId("team", adminTeam.id),
    role: "owner",
    email: adminUser.email,
    name: adminUser.name,
    isAdmin: true,
  });
  return {
    base,
    port,
    db,
    cp,
    audit,
    ca,
    pool,
    teamA,
    teamB,
    admin: { userId: adminUser.id, token: adminToken },
    api(path, init = {}) {
      const { key, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has("x-api-key") && !headers.has("authorization")) headers.set("x-api-key", key ?? teamA.apiKey);
      return fetch(`${base}${path}`, { ...rest, headers });
    },
    async [Symbol.asyncDispose]() {
      await cp.hostMonitor[Symbol.asyncDispose]();
      await cp.app.close();
      await pool[Symbol.asyncDispose]();
      clientTls?.[Symbol.dispose]();
      await db[Symbol.asyncDispose]();
    },
  };
}

/**
 * Starts agent, database and control plane. The agent (plain HTTP on
 * loopback, no control plane URL) is registered directly in the database;
 * the host monitor does not run (nothing heartbeats). `agentEnv` overrides
 * the agent's settings, e.g. `{ WRENN_RUNTIME: "qemu" }`.
 */
export async function startStack(agentEnv: Record<string, string> = {}): Promise<Stack> {
  const agent = await startTestAgent(agentEnv);
  const cps = await startControlPlaneStack();
  const hosts = createHostsRepo(cps.db);
  const host = await hosts.insert({ type: "regular", teamId: null, createdBy: null });
  await hosts.register(host.id, {
    arch: process.arch,
    cpuCores: 8,
    memoryMb: 16_384,
    diskGb: 100,
    address: new URL(agent.agent.url).host,
    certFingerprint: "",
    certExpiresAt: new Date(Date.now() + 86_400_000),
  });
  return {
    ...cps,
    agent,
    hostId: host.id,
    async [Symbol.asyncDispose]() {
      await cps[Symbol.asyncDispose]();
      await agent[Symbol.asyncDispose]();
    },
  };
}

/** POST JSON helper. */
export function json(body: unknown): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
