import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MemoryLogger, silentLogger } from "@wrenn/kit";
import { createAuditRepo } from "../audit/audit.repo.js";
import { toPublicId } from "../ids/public-id.js";
import { usePglite } from "../testing/databases.js";
import { createTestTeam, createTestUser } from "../testing/repo-fixtures.js";
import { createAccountHousekeeping } from "./account-housekeeping.js";
import { createAccountsStore } from "./accounts-store.js";
import { createMailDispatch } from "./mail-dispatch.js";
import { RecordingMailer } from "./testing/recording-mailer.js";

async function deletedDaysAgo(db: Awaited<ReturnType<typeof usePglite>>, userId: string, days: number) {
  await db.query("UPDATE users SET status = 'deleted', deleted_at = now() - make_interval(days => $2) WHERE id = $1", [
    userId,
    days,
  ]);
}

describe("account housekeeping", { timeout: 60_000 }, () => {
  before(async () => {
    // The first PGlite database of a process migrates a template (slow on a
    // loaded machine): do it in the hook, outside the tests' time budget.
    await (await usePglite()).close();
  });

  test("purges accounts past the grace period, anonymises their audit trail, prunes expired tokens", async () => {
    await using db = await usePglite();
    const store = createAccountsStore(db);
    const audit = createAuditRepo(db);
    const mailer = new RecordingMailer();
    const mail = createMailDispatch({ mailer, log: silentLogger });
    const housekeeping = createAccountHousekeeping({ store, audit, mail, log: silentLogger });

    const old = await createTestUser(db, { name: "Gone" });
    const recent = await createTestUser(db);
    const active = await createTestUser(db);
    const team = await createTestTeam(db, { ownerId: active.id });
    await store.teams.addMember({ teamId: team.id, userId: old.id, role: "member" });
    const key = await store.apiKeys.insert({
      teamId: team.id,
      name: "k",
      keyHash: "h1",
      keyPrefix: "wrn_1",
      createdBy: old.id,
    });
    const oldId = toPublicId("user", old.id);
    await audit.insert({
      teamId: team.id,
      actorType: "user",
      actorId: oldId,
      actorName: "Gone",
      resourceType: "api_key",
      action: "create",
    });
    await audit.insert({
      teamId: team.id,
      actorType: "user",
      actorId: toPublicId("user", active.id),
      resourceType: "member",
      resourceId: oldId,
      action: "add",
      metadata: { email: old.email, role: "member" },
    });
    await deletedDaysAgo(db, old.id, 16);
    await deletedDaysAgo(db, recent.id, 3);
    const expired = await store.tokens.issue("password_reset", active.id);
    const valid = await store.tokens.issue("activation", recent.id);
    await db.query("UPDATE one_time_tokens SET expires_at = now() - interval '1 minute' WHERE subject_id = $1", [
      active.id,
    ]);

    assert.deepEqual(await housekeeping.runOnce(), { purgedUsers: 1, failedUsers: 0, expiredTokens: 1 });
    const left = await db.query<{ id: string }>("SELECT id FROM users WHERE id = ANY($1::uuid[])", [
      [old.id, recent.id, active.id],
    ]);
    assert.deepEqual(left.rows.map((r) => r.id).sort(), [recent.id, active.id].sort());
    assert.equal((await store.apiKeys.getForTeam(team.id, key.id))?.createdBy, null, "keys stay, creator cleared");
    const page = await audit.list({ teamId: team.id, scopes: ["team", "admin"], limit: 10 });
    const json = JSON.stringify(page.items);
    assert.doesNotMatch(json, new RegExp(`${oldId}|${old.email}`));
    assert.match(json, /deleted-user/);
    assert.equal(await store.tokens.consume("password_reset", expired.token), undefined);
    assert.ok(await store.tokens.consume("activation", valid.token), "valid tokens stay");
    await mail.drain();
    assert.deepEqual(
      mailer.sent.map((m) => [m.to, m.subject]),
      [[old.email, "Your Wrenn data was removed"]],
    );
    assert.deepEqual(await housekeeping.runOnce(), { purgedUsers: 0, failedUsers: 0, expiredTokens: 0 });
  });

  test("a user whose audit trail cannot be anonymised is kept for the next pass", async () => {
    await using db = await usePglite();
    const store = createAccountsStore(db);
    const log = new MemoryLogger();
    const failing = {
      anonymizeUser: async () => {
        throw new Error("audit database unavailable");
      },
    };
    const mail = createMailDispatch({ mailer: new RecordingMailer(), log: silentLogger });
    const housekeeping = createAccountHousekeeping({ store, audit: failing, mail, log });
    const user = await createTestUser(db);
    await deletedDaysAgo(db, user.id, 20);
    assert.deepEqual(await housekeeping.runOnce(), { purgedUsers: 0, failedUsers: 1, expiredTokens: 0 });
    assert.equal((await db.query("SELECT 1 FROM users WHERE id = $1", [user.id])).rowCount, 1);
    assert.equal(log.entries.filter((e) => e.level === "error").length, 1);
  });

  test("start runs passes until disposed", async () => {
    await using db = await usePglite();
    const store = createAccountsStore(db);
    const mail = createMailDispatch({ mailer: new RecordingMailer(), log: silentLogger });
    const housekeeping = createAccountHousekeeping({ store, audit: createAuditRepo(db), mail, log: silentLogger });
    const user = await createTestUser(db);
    await deletedDaysAgo(db, user.id, 30);
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await using _loop = housekeeping.start({ firstRunDelayMs: 0, intervalMs: 3_600_000 });
      for (let i = 0; i < 250; i++) {
        if ((await db.query("SELECT 1 FROM users WHERE id = $1", [user.id])).rowCount === 0) break;
        await sleep(20);
      }
    } finally {
      clearInterval(keepAlive);
    }
    assert.equal((await db.query("SELECT 1 FROM users WHERE id = $1", [user.id])).rowCount, 0);
  });
});
