import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createApiKeysRepo } from "../api-keys/api-keys.repo.js";
import { isUniqueViolation } from "../db/database-error.js";
import { createTeamsRepo } from "../teams/teams.repo.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam, createTestUser, uniqueEmail, uniqueTag } from "../testing/repo-fixtures.js";
import { createOAuthProvidersRepo } from "./oauth-providers.repo.js";
import { createUsersRepo } from "./users.repo.js";

for (const backend of databaseBackends) {
  describe(`users repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("insert applies defaults and reads back by id and by address in any case", async () => {
      const users = createUsersRepo(db);
      const email = uniqueEmail("Mixed");
      const user = await users.insert({ email });
      assert.equal(user.status, "active");
      assert.equal(user.passwordHash, null);
      assert.equal(user.name, "");
      assert.equal(user.isAdmin, false);
      assert.ok(user.createdAt instanceof Date);
      assert.deepEqual(await users.getById(user.id), user);
      assert.deepEqual(await users.getByEmail(email.toUpperCase()), user);
      assert.equal(await users.getByEmail(`x${email}`), undefined);
    });

    test("an address is unique whatever its case", async () => {
      const users = createUsersRepo(db);
      const email = uniqueEmail();
      await users.insert({ email });
      await assert.rejects(users.insert({ email: email.toUpperCase() }), (err) =>
        isUniqueViolation(err, "users_email_key"),
      );
    });

    test("activate moves inactive to active once", async () => {
      const users = createUsersRepo(db);
      const user = await users.insert({ email: uniqueEmail(), status: "inactive", passwordHash: "$2b$hash" });
      assert.equal(await users.activate(user.id), true);
      assert.equal(await users.activate(user.id), false);
      assert.equal((await users.getById(user.id))?.status, "active");
      assert.equal(await users.setStatus(user.id, "disabled"), true);
      assert.equal(await users.activate(user.id), false, "a disabled user is not re-activated by a token");
    });

    test("soft-deleted users disappear from reads and are listed for purge after the grace period", async () => {
      const users = createUsersRepo(db);
      const user = await createTestUser(db);
      const email = user.email;
      assert.equal(await users.softDelete(user.id), true);
      assert.equal(await users.softDelete(user.id), false);
      assert.equal(await users.getById(user.id), undefined);
      assert.equal(await users.getByEmail(email), undefined);
      assert.equal(await users.updateName(user.id, "x"), false);
      assert.ok(!(await users.listExpiredSoftDeleted()).some((u) => u.id === user.id), "inside the grace period");
      await db.query("UPDATE users SET deleted_at = now() - interval '16 days' WHERE id = $1", [user.id]);
      const expired = await users.listExpiredSoftDeleted(15);
      assert.ok(expired.some((u) => u.id === user.id && u.status === "deleted"));
    });

    test("revokeAdmin never removes the last admin", async () => {
      const users = createUsersRepo(db);
      // Start from a known set: no admins in this database.
      await db.query("UPDATE users SET is_admin = false");
      const a = await createTestUser(db, { isAdmin: true });
      const b = await createTestUser(db);
      assert.equal(await users.grantAdmin(b.id), true);
      assert.equal(await users.revokeAdmin(a.id), true);
      assert.equal(await users.revokeAdmin(b.id), false, "b is the last admin");
      assert.equal(await users.revokeAdmin(a.id), false, "a is no admin any more");
      assert.equal((await users.getById(b.id))?.isAdmin, true);
    });

    test("search by address prefix matches literally, case-insensitively, at most `limit`", async () => {
      const users = createUsersRepo(db);
      const tag = uniqueTag();
      await users.insert({ email: `a_b.${tag}@x.io` });
      await users.insert({ email: `AXB.${tag}@x.io` });
      await users.insert({ email: `a%c.${tag}@x.io` });
      assert.deepEqual(
        (await users.searchByEmailPrefix("a_b.")).map((u) => u.email),
        [`a_b.${tag}@x.io`],
      );
      assert.deepEqual(
        (await users.searchByEmailPrefix("A%")).map((u) => u.email),
        [`a%c.${tag}@x.io`],
      );
      assert.deepEqual(
        (await users.searchByEmailPrefix(`axb.${tag}`)).map((u) => u.email),
        [`AXB.${tag}@x.io`],
      );
      assert.equal((await users.searchByEmailPrefix("", 2)).length, 2);
    });

    test("counts and the admin list", async () => {
      const users = createUsersRepo(db);
      const before = {
        all: await users.count(),
        active: await users.countActive(),
        admin: await users.countForAdmin(),
      };
      const owner = await createTestUser(db);
      await createTestUser(db, { status: "inactive" });
      const gone = await createTestUser(db);
      await users.softDelete(gone.id);
      await createTestTeam(db, { ownerId: owner.id });
      const joined = await createTestTeam(db);
      await db.query("INSERT INTO users_teams (team_id, user_id) VALUES ($1, $2)", [joined.id, owner.id]);
      // Each createTestTeam without an owner adds a user too.
      assert.equal(await users.count(), before.all + 4);
      assert.equal(await users.countActive(), before.active + 2);
      assert.equal(await users.countForAdmin(), before.admin + 3);
      const page = await users.listForAdmin({ limit: 1000, offset: 0 });
      const row = page.find((u) => u.id === owner.id);
      assert.ok(row);
      assert.equal(row.teamsJoined, 2);
      assert.equal(row.teamsOwned, 1);
      assert.ok(!page.some((u) => u.id === gone.id));
    });

    test("owned teams with other members block account deletion", async () => {
      const users = createUsersRepo(db);
      const owner = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: owner.id });
      await createTestTeam(db, { ownerId: owner.id });
      assert.equal(await users.countOwnedTeamsWithOtherMembers(owner.id), 0);
      const member = await createTestUser(db);
      await db.query("INSERT INTO users_teams (team_id, user_id) VALUES ($1, $2)", [team.id, member.id]);
      assert.equal(await users.countOwnedTeamsWithOtherMembers(owner.id), 1);
    });

    test("hard delete cascades memberships and links and keeps created rows without their creator", async () => {
      const users = createUsersRepo(db);
      const user = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: user.id });
      await createOAuthProvidersRepo(db).link({ provider: "github", providerId: uniqueTag(), userId: user.id });
      await db.query("INSERT INTO admin_permissions (user_id, permission) VALUES ($1, 'x')", [user.id]);
      const key = await createApiKeysRepo(db).insert({
        teamId: team.id,
        name: "k",
        keyHash: uniqueTag(),
        keyPrefix: "wrn_x",
        createdBy: user.id,
      });
      const host = await db.query<{ id: string }>("INSERT INTO hosts (created_by) VALUES ($1) RETURNING id", [user.id]);
      const hostId = host.rows[0]?.id ?? "";
      assert.equal(await users.hardDelete(user.id), true);
      for (const table of ["users_teams", "oauth_providers", "admin_permissions"]) {
        assert.equal((await db.query(`SELECT 1 FROM ${table} WHERE user_id = $1`, [user.id])).rowCount, 0, table);
      }
      const keyRow = await db.query<{ createdBy: string | null }>(
        `SELECT created_by AS "createdBy" FROM team_api_keys WHERE id = $1`,
        [key.id],
      );
      assert.deepEqual(keyRow.rows, [{ createdBy: null }]);
      const hostRow = await db.query("SELECT 1 FROM hosts WHERE id = $1 AND created_by IS NULL", [hostId]);
      assert.equal(hostRow.rowCount, 1);
      assert.equal(await users.hardDelete(user.id), false);
    });

    test("the only active user can be made admin; not once another user is active", async () => {
      // A database of its own: the rule depends on every user in it.
      await using fresh = await backend.open();
      const users = createUsersRepo(fresh);
      const pending = await createTestUser(fresh, { status: "inactive" });
      const first = await createTestUser(fresh);
      assert.equal(await users.grantAdminIfOnlyActiveUser(pending.id), false, "not active");
      assert.equal(await users.grantAdminIfOnlyActiveUser(first.id), true);
      assert.equal((await users.getById(first.id))?.isAdmin, true);
      const second = await createTestUser(fresh);
      assert.equal(await users.grantAdminIfOnlyActiveUser(second.id), false);
      assert.equal((await users.getById(second.id))?.isAdmin, false);
    });

    test("the visible search returns teammates by prefix and strangers only by exact address", async () => {
      const users = createUsersRepo(db);
      const teams = createTeamsRepo(db);
      const tag = uniqueTag();
      const caller = await users.insert({ email: `caller.${tag}@x.io` });
      const mate = await users.insert({ email: `m_te.${tag}@x.io` });
      const stranger = await users.insert({ email: `mate.${tag}@x.io` });
      const formerMate = await users.insert({ email: `mat.${tag}@y.io` });
      const pendingStranger = await users.insert({ email: `pend.${tag}@x.io`, status: "inactive" });
      const team = await createTestTeam(db, { ownerId: caller.id });
      await teams.addMember({ teamId: team.id, userId: mate.id, role: "member" });
      const gone = await createTestTeam(db, { ownerId: caller.id });
      await teams.addMember({ teamId: gone.id, userId: formerMate.id, role: "member" });
      await teams.softDelete(gone.id);

      const emails = async (q: string) => (await users.searchVisibleTo(caller.id, q)).map((u) => u.email);
      assert.deepEqual(await emails("m_t"), [mate.email], "LIKE wildcards are literal; strangers hidden");
      assert.deepEqual(await emails("M"), [mate.email], "case-insensitive; deleted team shares nothing");
      assert.deepEqual(await emails(stranger.email.toUpperCase()), [stranger.email], "exact address");
      assert.deepEqual(await emails(pendingStranger.email), [], "inactive strangers are not found");
      await users.softDelete(mate.id);
      assert.deepEqual(await emails("m_t"), [], "soft-deleted users are never found");
    });
  });

  describe(`oauth providers repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("link, find, list and unlink; one account per provider and user", async () => {
      const links = createOAuthProvidersRepo(db);
      const user = await createTestUser(db);
      const other = await createTestUser(db);
      const id = uniqueTag();
      const link = await links.link({ provider: "github", providerId: id, userId: user.id, email: "gh@x.io" });
      assert.equal(link.email, "gh@x.io");
      assert.deepEqual(await links.find("github", id), link);
      await assert.rejects(links.link({ provider: "github", providerId: id, userId: other.id }), (err) =>
        isUniqueViolation(err, "oauth_providers_pkey"),
      );
      await assert.rejects(links.link({ provider: "github", providerId: uniqueTag(), userId: user.id }), (err) =>
        isUniqueViolation(err, "oauth_providers_user_provider_key"),
      );
      assert.deepEqual(
        (await links.listForUser(user.id)).map((l) => l.provider),
        ["github"],
      );
      assert.equal(await links.unlink(user.id, "github"), true);
      assert.equal(await links.unlink(user.id, "github"), false);
      assert.equal(await links.find("github", id), undefined);
    });
  });
}
