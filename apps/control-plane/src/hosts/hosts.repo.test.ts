import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isCheckViolation, isForeignKeyViolation, isUniqueViolation } from "../db/database-error.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam, uniqueTag } from "../testing/repo-fixtures.js";
import { createHostTokensRepo } from "./host-tokens.repo.js";
import { createHostsRepo, type HostRegistration } from "./hosts.repo.js";

function registration(address: string): HostRegistration {
  return {
    arch: "amd64",
    cpuCores: 16,
    memoryMb: 65_536,
    diskGb: 500,
    address,
    certFingerprint: "ab".repeat(32),
    certExpiresAt: new Date("2030-01-01T00:00:00Z"),
  };
}

for (const backend of databaseBackends) {
  describe(`hosts repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    async function onlineHost(address = `10.0.0.${Math.floor(Math.random() * 250)}:50051`) {
      const hosts = createHostsRepo(db);
      const host = await hosts.insert({ type: "regular", teamId: null, createdBy: null });
      const registered = await hosts.register(host.id, registration(address));
      assert.ok(registered);
      return registered;
    }

    async function capsule(hostId: string, status: string, vcpus: number, memoryMb: number, diskMb: number) {
      const team = await createTestTeam(db);
      await db.query(
        "INSERT INTO sandboxes (team_id, host_id, status, vcpus, memory_mb, disk_size_mb) VALUES ($1, $2, $3, $4, $5, $6)",
        [team.id, hostId, status, vcpus, memoryMb, diskMb],
      );
    }

    test("a new host is pending; a BYOC host needs a team", async () => {
      const hosts = createHostsRepo(db);
      const host = await hosts.insert({ type: "regular", teamId: null, provider: "hetzner", createdBy: null });
      assert.equal(host.status, "pending");
      assert.equal(host.provider, "hetzner");
      assert.equal(host.address, "");
      assert.deepEqual(host.metadata, {});
      assert.deepEqual(await hosts.getById(host.id), host);
      await assert.rejects(hosts.insert({ type: "byoc", teamId: null, createdBy: null }), (err) =>
        isCheckViolation(err, "hosts_byoc_team_check"),
      );
    });

    test("registration happens once, from pending", async () => {
      const hosts = createHostsRepo(db);
      const host = await hosts.insert({ type: "regular", teamId: null, createdBy: null });
      const registered = await hosts.register(host.id, registration("10.1.2.3:50051"));
      assert.equal(registered?.status, "online");
      assert.equal(registered?.cpuCores, 16);
      assert.equal(registered?.certExpiresAt?.toISOString(), "2030-01-01T00:00:00.000Z");
      assert.ok(registered?.lastHeartbeatAt instanceof Date);
      assert.equal(await hosts.register(host.id, registration("10.9.9.9:1")), undefined);
      assert.equal((await hosts.getById(host.id))?.address, "10.1.2.3:50051");
    });

    test("heartbeats bring an unreachable host back and report the transition", async () => {
      const hosts = createHostsRepo(db);
      const host = await onlineHost();
      assert.deepEqual(await hosts.heartbeat(host.id), { previousStatus: "online", status: "online" });
      assert.equal(await hosts.markUnreachable(host.id), true);
      assert.equal(await hosts.markUnreachable(host.id), false);
      assert.deepEqual(await hosts.heartbeat(host.id), { previousStatus: "unreachable", status: "online" });
      assert.equal(await hosts.heartbeat("99999999-9999-4999-8999-999999999999"), undefined);
    });

    test("listActive leaves out pending hosts", async () => {
      const hosts = createHostsRepo(db);
      const pending = await hosts.insert({ type: "regular", teamId: null, createdBy: null });
      const online = await onlineHost();
      const active = (await hosts.listActive()).map((h) => h.id);
      assert.ok(active.includes(online.id));
      assert.ok(!active.includes(pending.id));
    });

    test("load sums capsules by status with FILTER: pending+running, paused; others ignored", async () => {
      const hosts = createHostsRepo(db);
      const busy = await onlineHost();
      const idle = await onlineHost();
      const unreachable = await onlineHost();
      await hosts.markUnreachable(unreachable.id);
      await capsule(busy.id, "running", 2, 1024, 5000);
      await capsule(busy.id, "running", 1, 256, 100);
      await capsule(busy.id, "pending", 1, 512, 1000);
      await capsule(busy.id, "paused", 4, 2048, 3000);
      await capsule(busy.id, "paused", 1, 100, 10);
      for (const status of ["stopped", "error", "missing"]) await capsule(busy.id, status, 8, 8192, 9999);
      await capsule(idle.id, "stopped", 8, 8192, 9999);
      const load = await hosts.listWithLoad();
      const byId = new Map(load.map((h) => [h.id, h]));
      assert.deepEqual(byId.get(busy.id), {
        id: busy.id,
        type: "regular",
        teamId: null,
        address: busy.address,
        cpuCores: 16,
        memoryMb: 65_536,
        diskGb: 500,
        runningVcpus: 4,
        runningMemoryMb: 1792,
        runningDiskMb: 6100,
        pausedMemoryMb: 2148,
        pausedDiskMb: 3010,
      });
      const quiet = byId.get(idle.id);
      assert.ok(quiet);
      assert.deepEqual(
        [quiet.runningVcpus, quiet.runningMemoryMb, quiet.runningDiskMb, quiet.pausedMemoryMb, quiet.pausedDiskMb],
        [0, 0, 0, 0, 0],
      );
      assert.ok(!byId.has(unreachable.id), "only online hosts");
    });

    test("hosts without an address are not scheduled on", async () => {
      const hosts = createHostsRepo(db);
      const host = await onlineHost();
      await db.query("UPDATE hosts SET address = '' WHERE id = $1", [host.id]);
      assert.ok(!(await hosts.listWithLoad()).some((h) => h.id === host.id));
    });

    test("team listing, admin listing with team names, certificate update", async () => {
      const hosts = createHostsRepo(db);
      const team = await createTestTeam(db, { name: "Byoc Co" });
      const byoc = await hosts.insert({ type: "byoc", teamId: team.id, createdBy: null });
      assert.deepEqual(
        (await hosts.listByTeam(team.id)).map((h) => h.id),
        [byoc.id],
      );
      const all = await hosts.listAll();
      assert.equal(all.find((h) => h.id === byoc.id)?.teamName, "Byoc Co");
      assert.ok(all.filter((h) => h.teamId === null).every((h) => h.teamName === ""));
      const expires = new Date("2031-05-06T07:08:09Z");
      assert.equal(await hosts.updateCertificate(byoc.id, "cd".repeat(32), expires), true);
      const updated = await hosts.getById(byoc.id);
      assert.equal(updated?.certFingerprint, "cd".repeat(32));
      assert.deepEqual(updated?.certExpiresAt, expires);
    });

    test("tags: idempotent add, sorted list, remove; unknown host rejected", async () => {
      const hosts = createHostsRepo(db);
      const host = await onlineHost();
      await hosts.addTag(host.id, "gpu");
      await hosts.addTag(host.id, "eu");
      await hosts.addTag(host.id, "gpu");
      assert.deepEqual(await hosts.listTags(host.id), ["eu", "gpu"]);
      assert.equal(await hosts.removeTag(host.id, "gpu"), true);
      assert.equal(await hosts.removeTag(host.id, "gpu"), false);
      await assert.rejects(hosts.addTag("99999999-9999-4999-8999-999999999999", "x"), (err) =>
        isForeignKeyViolation(err),
      );
    });

    test("deleting a host cascades to tags and tokens and keeps capsule rows", async () => {
      const hosts = createHostsRepo(db);
      const tokens = createHostTokensRepo(db);
      const host = await onlineHost();
      await hosts.addTag(host.id, "a");
      await tokens.insertRegistrationRecord({
        hostId: host.id,
        createdBy: null,
        expiresAt: new Date(Date.now() + 3600_000),
      });
      await tokens.insertRefreshToken({
        hostId: host.id,
        tokenHash: uniqueTag(),
        expiresAt: new Date(Date.now() + 3600_000),
      });
      await capsule(host.id, "stopped", 1, 512, 5120);
      assert.equal(await hosts.delete(host.id), true);
      for (const table of ["host_tags", "host_tokens", "host_refresh_tokens"]) {
        assert.equal((await db.query(`SELECT 1 FROM ${table} WHERE host_id = $1`, [host.id])).rowCount, 0, table);
      }
      assert.equal((await db.query("SELECT 1 FROM sandboxes WHERE host_id = $1", [host.id])).rowCount, 1);
      assert.equal(await hosts.delete(host.id), false);
    });
  });

  describe(`host tokens repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("registration records are marked used once", async () => {
      const host = await createHostsRepo(db).insert({ type: "regular", teamId: null, createdBy: null });
      const tokens = createHostTokensRepo(db);
      const expiresAt = new Date(Date.now() + 3600_000);
      const record = await tokens.insertRegistrationRecord({ hostId: host.id, createdBy: null, expiresAt });
      assert.equal(record.usedAt, null);
      assert.equal(await tokens.markRegistrationUsed(record.id), true);
      assert.equal(await tokens.markRegistrationUsed(record.id), false);
      const [listed] = await tokens.listRegistrationRecords(host.id);
      assert.ok(listed?.usedAt instanceof Date);
    });

    test("a refresh token is spent once, never when expired or revoked, even by concurrent callers", async () => {
      const host = await createHostsRepo(db).insert({ type: "regular", teamId: null, createdBy: null });
      const tokens = createHostTokensRepo(db);
      const later = new Date(Date.now() + 60 * 86_400_000);
      const live = uniqueTag();
      const { id } = await tokens.insertRefreshToken({ hostId: host.id, tokenHash: live, expiresAt: later });
      await assert.rejects(tokens.insertRefreshToken({ hostId: host.id, tokenHash: live, expiresAt: later }), (err) =>
        isUniqueViolation(err, "host_refresh_tokens_token_hash_key"),
      );
      const results = await Promise.all([tokens.consumeRefreshToken(live), tokens.consumeRefreshToken(live)]);
      assert.deepEqual(
        results.filter((r) => r !== undefined),
        [{ id, hostId: host.id }],
      );
      const expired = uniqueTag();
      await tokens.insertRefreshToken({ hostId: host.id, tokenHash: expired, expiresAt: new Date(Date.now() - 1000) });
      assert.equal(await tokens.consumeRefreshToken(expired), undefined);
      const revoked = uniqueTag();
      await tokens.insertRefreshToken({ hostId: host.id, tokenHash: revoked, expiresAt: later });
      await tokens.insertRefreshToken({ hostId: host.id, tokenHash: uniqueTag(), expiresAt: later });
      assert.equal(await tokens.revokeRefreshTokens(host.id), 3, "the two live ones and the expired one");
      assert.equal(await tokens.consumeRefreshToken(revoked), undefined);
    });
  });
}
