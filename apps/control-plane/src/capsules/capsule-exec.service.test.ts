import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { MINIMAL_TEMPLATE_ID, PLATFORM_TEAM_ID } from "../db/seeds.js";
import { HostClientPool } from "../hosts/host-client-pool.js";
import { createHostsRepo } from "../hosts/hosts.repo.js";
import { ApiError } from "../http/api-error.js";
import type { ApiKeyPrincipal } from "../http/auth.js";
import { toPublicId } from "../ids/public-id.js";
import { usePglite } from "../testing/databases.js";
import { createTestTeam } from "../testing/repo-fixtures.js";
import { createCapsuleAccess } from "./capsule-access.js";
import { createCapsuleExecService, LAST_ACTIVE_RESOLUTION_MS } from "./capsule-exec.service.js";
import { type CapsuleStatus, createCapsulesRepo } from "./capsules.repo.js";

/**
 * A host agent on loopback that implements the command RPCs over real Connect:
 * `/bin/true` exits 0, `missing` is NotFound (as the agent answers for a gone
 * capsule), anything else echoes its arguments.
 */
async function startCommandAgent() {
  const calls: string[] = [];
  const rpc = connectNodeAdapter({
    routes: (r) =>
      r.service(HostAgentService, {
        async exec(req) {
          calls.push(`exec ${req.sandboxId} ${req.cmd}`);
          if (req.cmd === "missing") throw new ConnectError("sandbox not found", Code.NotFound);
          return { stdout: Buffer.from(req.args.join(" ")), stderr: new Uint8Array(), exitCode: 0 };
        },
        async listProcesses(req) {
          calls.push(`list ${req.sandboxId}`);
          return { processes: [{ pid: 7, tag: "t", cmd: "sleep", args: ["9"] }] };
        },
      }),
  });
  const server = createServer(rpc);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function setup(clock: { now: number }) {
  const db = await usePglite();
  const agent = await startCommandAgent();
  const pool = new HostClientPool({ tls: () => undefined });
  const capsules = createCapsulesRepo(db);
  const hosts = createHostsRepo(db);
  const team = await createTestTeam(db);
  const host = await hosts.insert({ type: "regular", teamId: null, createdBy: null });
  await db.query("UPDATE hosts SET address = $2, status = 'online' WHERE id = $1", [host.id, agent.address]);
  const access = createCapsuleAccess({ capsules, hosts, pool });
  const exec = createCapsuleExecService({ access, capsules, now: () => clock.now });
  const principal: ApiKeyPrincipal = { kind: "api_key", apiKeyId: "k", teamId: team.id, name: "test" };
  /** A capsule of the team on `hostId` in `status`, last active at `lastActiveAt`; its public id. */
  const capsule = async (status: CapsuleStatus, lastActiveAt: Date, hostId = host.id) => {
    const row = await capsules.insertPending({
      teamId: team.id,
      hostId,
      template: "minimal",
      templateId: MINIMAL_TEMPLATE_ID,
      templateTeamId: PLATFORM_TEAM_ID,
      vcpus: 1,
      memoryMb: 512,
      timeoutSec: 0,
      diskSizeMb: 5120,
    });
    await capsules.markRunning(row.id, { hostIp: "10.0.0.1", startedAt: lastActiveAt });
    await capsules.setStatus(row.id, status);
    return { uuid: row.id, id: toPublicId("capsule", row.id) };
  };
  return {
    db,
    exec,
    capsules,
    hosts,
    agent,
    principal,
    capsule,
    async [Symbol.asyncDispose]() {
      await pool[Symbol.asyncDispose]();
      await agent[Symbol.asyncDispose]();
      await db.close();
    },
  };
}

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.status, err.code], [status, code]);
    return true;
  });
}

describe("capsule exec service", () => {
  test("finds the capsule and its agent in one lookup: 404, 409, 503 and agent errors as before", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    await using s = await setup({ now: t0.getTime() });
    const running = await s.capsule("running", t0);
    const ok = await s.exec.exec(s.principal, running.id, { cmd: "/bin/echo", args: ["hi", "there"] });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { ...ok.body, stdout: "hi there", stderr: "", exit_code: 0, encoding: "utf-8" });
    assert.deepEqual(await s.exec.listProcesses(s.principal, running.id), {
      processes: [{ pid: 7, tag: "t", cmd: "sleep", args: ["9"] }],
    });

    await rejectsWith(s.exec.exec(s.principal, "cl-nope", { cmd: "/bin/true" }), 404, "not_found");
    const stranger = { ...s.principal, teamId: (await createTestTeam(s.db)).id };
    await rejectsWith(s.exec.exec(stranger, running.id, { cmd: "/bin/true" }), 404, "not_found");
    const paused = await s.capsule("paused", t0);
    await rejectsWith(s.exec.exec(s.principal, paused.id, { cmd: "/bin/true" }), 409, "invalid_state");
    const addressless = await s.hosts.insert({ type: "regular", teamId: null, createdBy: null });
    const stranded = await s.capsule("running", t0, addressless.id);
    await rejectsWith(s.exec.listProcesses(s.principal, stranded.id), 503, "host_unavailable");
    await rejectsWith(s.exec.exec(s.principal, running.id, { cmd: "missing" }), 404, "not_found");
    assert.deepEqual(s.agent.calls, [
      `exec ${running.id} /bin/echo`,
      `list ${running.id}`,
      `exec ${running.id} missing`,
    ]);
  });

  test("writes last_active_at only when the stored value is older than the resolution (or ahead of our clock)", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const clock = { now: t0.getTime() + LAST_ACTIVE_RESOLUTION_MS - 1 };
    await using s = await setup(clock);
    const c = await s.capsule("running", t0);
    const lastActive = async () => (await s.capsules.getById(c.uuid))?.lastActiveAt?.getTime();

    await s.exec.exec(s.principal, c.id, { cmd: "/bin/true" });
    assert.equal(await lastActive(), t0.getTime(), "recent enough: no write");

    clock.now = t0.getTime() + LAST_ACTIVE_RESOLUTION_MS;
    await s.exec.exec(s.principal, c.id, { cmd: "/bin/true", background: false });
    const touched = await lastActive();
    assert.ok(touched !== undefined && touched > t0.getTime(), "stale: rewritten with the database's now()");

    // The database clock ahead of ours (negative age) must not stop the writes.
    await s.db.query("UPDATE sandboxes SET last_active_at = $2 WHERE id = $1", [c.uuid, t0]);
    clock.now = t0.getTime() - 60_000;
    await s.exec.exec(s.principal, c.id, { cmd: "/bin/true" });
    assert.ok(((await lastActive()) ?? 0) > t0.getTime(), "skewed clock: written");

    // A capsule never marked active is written at once.
    await s.db.query("UPDATE sandboxes SET last_active_at = NULL WHERE id = $1", [c.uuid]);
    await s.exec.exec(s.principal, c.id, { cmd: "/bin/true" });
    assert.ok(((await lastActive()) ?? 0) > t0.getTime(), "null: written");
  });
});
