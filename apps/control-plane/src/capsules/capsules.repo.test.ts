import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { isCheckViolation, isForeignKeyViolation } from "../db/database-error.js";
import { MINIMAL_TEMPLATE_ID, PLATFORM_TEAM_ID } from "../db/seeds.js";
import { createHostsRepo } from "../hosts/hosts.repo.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam } from "../testing/repo-fixtures.js";
import { type CapsuleStatus, createCapsulesRepo, type NewCapsule } from "./capsules.repo.js";

function newCapsule(teamId: string, hostId: string, fields: Partial<NewCapsule> = {}): NewCapsule {
  return {
    teamId,
    hostId,
    template: "minimal",
    templateId: MINIMAL_TEMPLATE_ID,
    templateTeamId: PLATFORM_TEAM_ID,
    vcpus: 2,
    memoryMb: 1024,
    timeoutSec: 0,
    diskSizeMb: 5120,
    ...fields,
  };
}

for (const backend of databaseBackends) {
  describe(`capsules repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    async function withStatus(teamId: string, hostId: string, status: CapsuleStatus) {
      const capsules = createCapsulesRepo(db);
      const capsule = await capsules.insertPending(newCapsule(teamId, hostId));
      await capsules.setStatus(capsule.id, status);
      return capsule.id;
    }

    test("insertPending, then markRunning with addresses, start time and agent metadata", async () => {
      const capsules = createCapsulesRepo(db);
      const team = await createTestTeam(db);
      const id = randomUUID();
      const pending = await capsules.insertPending(newCapsule(team.id, randomUUID(), { id, timeoutSec: 300 }));
      assert.equal(pending.id, id);
      assert.equal(pending.status, "pending");
      assert.equal(pending.startedAt, null);
      assert.equal(pending.timeoutSec, 300);
      assert.deepEqual(pending.metadata, {});
      const startedAt = new Date("2026-01-02T03:04:05.678Z");
      const running = await capsules.markRunning(id, {
        hostIp: "10.11.0.7",
        startedAt,
        metadata: { kernel_version: "6.1" },
      });
      assert.equal(running?.status, "running");
      assert.equal(running?.hostIp, "10.11.0.7");
      assert.equal(running?.guestIp, "");
      assert.deepEqual(running?.startedAt, startedAt);
      assert.deepEqual(running?.lastActiveAt, startedAt);
      assert.deepEqual(running?.metadata, { kernel_version: "6.1" });
      const resumed = await capsules.markRunning(id, { hostIp: "10.11.0.8" });
      assert.deepEqual(resumed?.metadata, { kernel_version: "6.1" }, "metadata kept when not given");
      assert.ok(resumed?.startedAt && resumed.startedAt > startedAt);
      assert.equal(await capsules.markRunning(randomUUID(), { hostIp: "x" }), undefined);
    });

    test("the team must exist and the status must be a known one", async () => {
      const capsules = createCapsulesRepo(db);
      await assert.rejects(capsules.insertPending(newCapsule(randomUUID(), randomUUID())), (err) =>
        isForeignKeyViolation(err),
      );
      const team = await createTestTeam(db);
      const capsule = await capsules.insertPending(newCapsule(team.id, randomUUID()));
      await assert.rejects(db.query("UPDATE sandboxes SET status = 'hibernated' WHERE id = $1", [capsule.id]), (err) =>
        isCheckViolation(err, "sandboxes_status_check"),
      );
    });

    test("transition only from the expected statuses; racing callers see one winner", async () => {
      const capsules = createCapsulesRepo(db);
      const team = await createTestTeam(db);
      const id = await withStatus(team.id, randomUUID(), "running");
      const results = await Promise.all([
        capsules.transition(id, ["running"], "paused"),
        capsules.transition(id, ["running"], "paused"),
      ]);
      assert.deepEqual(results.sort(), [false, true]);
      assert.equal(await capsules.transition(id, ["running"], "stopped"), false);
      assert.equal(await capsules.transition(id, ["running", "paused"], "stopped"), true);
      assert.equal((await capsules.getById(id))?.status, "stopped");
    });

    test("team lists: stopped and failed hidden, active subset, scoping by team", async () => {
      const capsules = createCapsulesRepo(db);
      const team = await createTestTeam(db);
      const other = await createTestTeam(db);
      const host = randomUUID();
      const ids = new Map<CapsuleStatus, string>();
      for (const status of ["pending", "running", "paused", "missing", "stopped", "error"] as const) {
        ids.set(status, await withStatus(team.id, host, status));
      }
      const foreign = await withStatus(other.id, host, "running");
      const listed = (await capsules.listForTeam(team.id)).map((c) => c.status).sort();
      assert.deepEqual(listed, ["missing", "paused", "pending", "running"]);
      const active = (await capsules.listActiveForTeam(team.id)).map((c) => c.status).sort();
      assert.deepEqual(active, ["missing", "paused", "pending", "running"]);
      const stopped = ids.get("stopped") ?? "";
      assert.equal((await capsules.getForTeam(team.id, stopped))?.status, "stopped", "get shows stopped capsules");
      assert.equal(await capsules.getForTeam(team.id, foreign), undefined);
    });

    test("the newest capsule is listed first", async () => {
      const capsules = createCapsulesRepo(db);
      const team = await createTestTeam(db);
      const older = await capsules.insertPending(newCapsule(team.id, randomUUID()));
      await db.query("UPDATE sandboxes SET created_at = now() - interval '1 hour' WHERE id = $1", [older.id]);
      const newer = await capsules.insertPending(newCapsule(team.id, randomUUID()));
      assert.deepEqual(
        (await capsules.listForTeam(team.id)).map((c) => c.id),
        [newer.id, older.id],
      );
    });

    test("host outage: pending and running become missing, then come back or are stopped in bulk", async () => {
      const capsules = createCapsulesRepo(db);
      const team = await createTestTeam(db);
      const host = randomUUID();
      const running = await withStatus(team.id, host, "running");
      const pending = await withStatus(team.id, host, "pending");
      const paused = await withStatus(team.id, host, "paused");
      const elsewhere = await withStatus(team.id, randomUUID(), "running");
      assert.deepEqual((await capsules.markMissingByHost(host)).sort(), [running, pending].sort());
      const onHost = await capsules.listByHostAndStatus(host, ["missing", "paused"]);
      assert.deepEqual(onHost.map((c) => c.id).sort(), [running, pending, paused].sort());
      assert.equal(await capsules.restoreRunning([running, paused, elsewhere]), 1, "only missing ones come back");
      assert.equal(await capsules.bulkSetStatus([pending, paused], "stopped"), 2);
      const statuses = await Promise.all([running, pending, paused, elsewhere].map((id) => capsules.getById(id)));
      assert.deepEqual(
        statuses.map((c) => c?.status),
        ["running", "stopped", "stopped", "running"],
      );
      assert.equal(await capsules.bulkSetStatus([], "stopped"), 0);
    });

    test("activity, metadata and the host joins (proxy target, capsule with host address)", async () => {
      const capsules = createCapsulesRepo(db);
      const hosts = createHostsRepo(db);
      const team = await createTestTeam(db);
      const host = await hosts.insert({ type: "regular", teamId: null, createdBy: null });
      await db.query("UPDATE hosts SET address = '10.0.0.5:50051', status = 'online' WHERE id = $1", [host.id]);
      const id = await withStatus(team.id, host.id, "running");
      assert.equal(await capsules.touchLastActive(id), true);
      assert.ok((await capsules.getById(id))?.lastActiveAt instanceof Date);
      assert.equal(await capsules.updateMetadata(id, { envd_version: "1" }), true);
      assert.deepEqual((await capsules.getById(id))?.metadata, { envd_version: "1" });
      assert.deepEqual(await capsules.getProxyTarget(id), {
        status: "running",
        hostId: host.id,
        hostAddress: "10.0.0.5:50051",
      });
      const withHost = await capsules.getForTeamWithHost(team.id, id);
      assert.deepEqual(withHost, { ...(await capsules.getForTeam(team.id, id)), hostAddress: "10.0.0.5:50051" });
      const otherTeam = await createTestTeam(db);
      assert.equal(await capsules.getForTeamWithHost(otherTeam.id, id), undefined, "another team's capsule");
      await hosts.delete(host.id);
      assert.equal((await capsules.getProxyTarget(id))?.hostAddress, "", "host gone");
      assert.equal((await capsules.getForTeamWithHost(team.id, id))?.hostAddress, "", "host gone");
      assert.equal(await capsules.getProxyTarget(randomUUID()), undefined);
    });
  });
}
