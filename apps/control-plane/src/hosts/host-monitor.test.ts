import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import { MemoryAuditSink } from "../audit/audit-sink.js";
import { type CapsuleStatus, createCapsulesRepo } from "../capsules/capsules.repo.js";
import { PLATFORM_TEAM_ID, toPublicId } from "../ids/public-id.js";
import { createTeamsRepo } from "../teams/teams.repo.js";
import { type TestDatabase, usePglite } from "../testing/databases.js";
import { createTestTeam } from "../testing/repo-fixtures.js";
import { HostClientPool } from "./host-client-pool.js";
import { HostMonitor, type HostMonitorOptions } from "./host-monitor.js";
import { createHostsRepo, type Host } from "./hosts.repo.js";

/** An address nothing listens on: the agent calls of these tests fail at once. */
const DEAD_ADDRESS = "127.0.0.1:9";

describe("host monitor (database side; the agent side runs in e2e/host-monitor.e2e.test.ts)", () => {
  let db: TestDatabase;
  let pool: HostClientPool;

  before(async () => {
    db = await usePglite();
    pool = new HostClientPool({ tls: () => undefined });
  });
  after(async () => {
    await pool?.[Symbol.asyncDispose]();
    await db?.[Symbol.asyncDispose]();
  });

  async function registeredHost(teamId: string | null = null): Promise<Host> {
    const hosts = createHostsRepo(db);
    const host = await hosts.insert({ type: teamId ? "byoc" : "regular", teamId, createdBy: null });
    const registered = await hosts.register(host.id, {
      arch: "amd64",
      cpuCores: 4,
      memoryMb: 8192,
      diskGb: 50,
      address: DEAD_ADDRESS,
      certFingerprint: "",
      certExpiresAt: new Date(Date.now() + 86_400_000),
    });
    assert.ok(registered);
    return registered;
  }

  async function capsuleOn(host: Host, status: CapsuleStatus, teamId = PLATFORM_TEAM_ID): Promise<string> {
    const capsules = createCapsulesRepo(db);
    const row = await capsules.insertPending({
      teamId,
      hostId: host.id,
      template: "minimal",
      templateId: null,
      templateTeamId: null,
      vcpus: 1,
      memoryMb: 256,
      timeoutSec: 0,
      diskSizeMb: 1024,
    });
    await capsules.setStatus(row.id, status);
    return row.id;
  }

  function monitor(extra: Partial<HostMonitorOptions> = {}) {
    const audit = new MemoryAuditSink();
    const log = new MemoryLogger();
    const unreachable: string[] = [];
    const m = new HostMonitor({
      db,
      pool,
      audit,
      log,
      rpcTimeoutMs: 2000,
      onCapsuleUnreachable: (id) => unreachable.push(id),
      ...extra,
    });
    return { m, audit, log, unreachable };
  }

  const statusOf = async (id: string) => (await createCapsulesRepo(db).getById(id))?.status;
  const hostStatusOf = async (id: string) => (await createHostsRepo(db).getById(id))?.status;

  test("a silent host becomes unreachable and its pending and running capsules missing, once", async () => {
    const host = await registeredHost();
    const running = await capsuleOn(host, "running");
    const pending = await capsuleOn(host, "pending");
    const paused = await capsuleOn(host, "paused");
    const { m, audit, unreachable } = monitor({ now: () => Date.now() + 91_000 });
    await m.runOnce();
    assert.equal(await hostStatusOf(host.id), "unreachable");
    assert.deepEqual(
      [await statusOf(running), await statusOf(pending), await statusOf(paused)],
      ["missing", "missing", "paused"],
    );
    assert.deepEqual(unreachable.toSorted(), [running, pending].map((id) => toPublicId("capsule", id)).toSorted());
    const down = audit.entries.filter((e) => e.resourceId === toPublicId("host", host.id));
    assert.equal(down.length, 1);
    assert.deepEqual(
      [down[0]?.action, down[0]?.status, down[0]?.teamId, down[0]?.actor.type],
      ["marked_down", "error", PLATFORM_TEAM_ID, "system"],
    );
    await m.runOnce();
    assert.equal(audit.entries.filter((e) => e.resourceId === toPublicId("host", host.id)).length, 1);
    await m[Symbol.asyncDispose]();
  });

  test("a BYOC host's outage is audited under its team", async () => {
    const team = await createTestTeam(db);
    await createTeamsRepo(db).enableByoc(team.id);
    const host = await registeredHost(team.id);
    const { m, audit } = monitor({ now: () => Date.now() + 91_000 });
    await m.checkHost(host.id);
    const entry = audit.entries.find((e) => e.resourceId === toPublicId("host", host.id));
    assert.deepEqual([entry?.action, entry?.teamId], ["marked_down", team.id]);
    await m[Symbol.asyncDispose]();
  });

  test("a fresh host whose agent does not answer keeps its capsules as they are (transient)", async () => {
    const host = await registeredHost();
    const running = await capsuleOn(host, "running");
    const missing = await capsuleOn(host, "missing");
    const { m, audit, log } = monitor();
    await m.runOnce();
    assert.equal(await hostStatusOf(host.id), "online");
    assert.deepEqual([await statusOf(running), await statusOf(missing)], ["running", "missing"]);
    assert.equal(audit.entries.length, 0);
    assert.ok(log.entries.some((e) => e.msg === "host monitor: ListSandboxes failed"));
    await m[Symbol.asyncDispose]();
  });

  test("start runs a pass at once and then on its interval; dispose stops it", async () => {
    const host = await registeredHost();
    let now = Date.now();
    let passes = 0;
    const { m } = monitor({
      intervalMs: 20,
      now: () => {
        passes++;
        return now;
      },
    });
    m.start();
    m.start();
    const deadline = Date.now() + 10_000;
    while (passes < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(passes >= 3, "several passes ran");
    assert.equal(await hostStatusOf(host.id), "online");
    now += 91_000;
    while ((await hostStatusOf(host.id)) !== "unreachable" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await hostStatusOf(host.id), "unreachable");
    await m[Symbol.asyncDispose]();
    const stopped = passes;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(passes, stopped, "no pass after dispose");
  });
});
