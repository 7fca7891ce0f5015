/**
 * A whole Wrenn in one test process: a real host agent (namespace runtime,
 * real capsules), the control plane on an embedded PGlite database, and a
 * team with an API key — talked to over real HTTP and WebSockets.
 */
import { hostname } from "node:os";
import pino from "pino";
import { createApiKeysRepo } from "../apps/control-plane/src/api-keys/api-keys.repo.js";
import { MemoryAuditSink } from "../apps/control-plane/src/audit/audit-sink.js";
import { generateApiKey } from "../apps/control-plane/src/auth/api-key.js";
import { type ControlPlane, createControlPlane } from "../apps/control-plane/src/control-plane.js";
import { HostClientPool } from "../apps/control-plane/src/hosts/host-client-pool.js";
import { createHostsRepo } from "../apps/control-plane/src/hosts/hosts.repo.js";
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

/** The running stack. Dispose destroys everything it made. */
export interface Stack extends AsyncDisposable {
  readonly base: string;
  readonly port: number;
  readonly db: TestDatabase;
  readonly cp: ControlPlane;
  readonly agent: TestAgent;
  readonly audit: MemoryAuditSink;
  /** Team A and team B, each with an owner and an API key. */
  readonly teamA: TeamCredentials;
  readonly teamB: TeamCredentials;
  /** fetch against the control plane with team A's key (override headers to change). */
  api(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
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

/** Starts agent, database and control plane. */
export async function startStack(): Promise<Stack> {
  const agent = await startTestAgent();
  const db = await usePglite();
  const hosts = createHostsRepo(db);
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
  const pool = new HostClientPool({ tls: () => undefined });
  const audit = new MemoryAuditSink();
  const cp = await createControlPlane({
    config: { jwtSecret: "e2e-secret-".padEnd(40, "x"), domain: "localhost" },
    db,
    logger: pino({ level: process.env["E2E_LOG"] ?? "silent", base: { host: hostname() } }),
    version: "e2e",
    pool,
    audit,
    // This stack's agent is registered directly in the database and serves plain HTTP on
    // loopback; the CA is only there for the registration endpoint (see hosts.e2e.test.ts).
    ca: await InternalCa.create(),
  });
  await cp.app.listen({ port: 0, host: "127.0.0.1" });
  const port = (cp.app.server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const teamA = await makeTeam(db);
  const teamB = await makeTeam(db);
  return {
    base,
    port,
    db,
    cp,
    agent,
    audit,
    teamA,
    teamB,
    api(path, init = {}) {
      const { key, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has("x-api-key") && !headers.has("authorization")) headers.set("x-api-key", key ?? teamA.apiKey);
      return fetch(`${base}${path}`, { ...rest, headers });
    },
    async [Symbol.asyncDispose]() {
      await cp.app.close();
      await pool[Symbol.asyncDispose]();
      await agent[Symbol.asyncDispose]();
      await db[Symbol.asyncDispose]();
    },
  };
}

/** POST JSON helper. */
export function json(body: unknown): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
