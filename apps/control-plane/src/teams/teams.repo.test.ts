import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isForeignKeyViolation, isUniqueViolation } from "../db/database-error.js";
import { PLATFORM_TEAM_ID } from "../db/seeds.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam, createTestUser, uniqueTag } from "../testing/repo-fixtures.js";
import { createTeamsRepo } from "./teams.repo.js";

for (const backend of databaseBackends) {
  describe(`teams repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("insertWithOwner makes the team and the owner's membership together", async () => {
      const teams = createTeamsRepo(db);
      const owner = await createTestUser(db);
      const team = await teams.insertWithOwner({
        name: "Acme",
        slug: `s-${uniqueTag()}`,
        ownerId: owner.id,
        isDefault: true,
      });
      assert.equal(team.name, "Acme");
      assert.equal(team.isByoc, false);
      assert.equal(team.deletedAt, null);
      assert.deepEqual(await teams.getById(team.id), team);
      const [mine] = await teams.listForUser(owner.id);
      assert.equal(mine?.id, team.id);
      assert.equal(mine?.role, "owner");
      assert.equal(mine?.isDefault, true);
      assert.equal((await teams.getDefaultForUser(owner.id))?.id, team.id);
      assert.deepEqual(await teams.getMembership(team.id, owner.id), { role: "owner", isDefault: true });
    });

    test("insertWithOwner is all or nothing", async () => {
      const teams = createTeamsRepo(db);
      const slug = `s-${uniqueTag()}`;
      const missingUser = "99999999-9999-4999-8999-999999999999";
      await assert.rejects(teams.insertWithOwner({ name: "X", slug, ownerId: missingUser, isDefault: false }), (err) =>
        isForeignKeyViolation(err),
      );
      assert.equal((await db.query("SELECT 1 FROM teams WHERE slug = $1", [slug])).rowCount, 0);
    });

    test("slugs are unique; one owner per team, one default team per user, one membership per pair", async () => {
      const teams = createTeamsRepo(db);
      const team = await createTestTeam(db);
      await assert.rejects(teams.insert({ name: "dup", slug: team.slug }), (err) =>
        isUniqueViolation(err, "teams_slug_key"),
      );
      const user = await createTestUser(db);
      await assert.rejects(teams.addMember({ teamId: team.id, userId: user.id, role: "owner" }), (err) =>
        isUniqueViolation(err, "users_teams_one_owner_key"),
      );
      await teams.addMember({ teamId: team.id, userId: user.id, role: "member", isDefault: true });
      await assert.rejects(teams.addMember({ teamId: team.id, userId: user.id, role: "admin" }), (err) =>
        isUniqueViolation(err, "users_teams_pkey"),
      );
      const second = await createTestTeam(db);
      await assert.rejects(
        teams.addMember({ teamId: second.id, userId: user.id, role: "member", isDefault: true }),
        (err) => isUniqueViolation(err, "users_teams_one_default_key"),
      );
    });

    test("roles change and members leave, except the owner", async () => {
      const teams = createTeamsRepo(db);
      const owner = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: owner.id });
      const member = await createTestUser(db, { name: "Mem" });
      await teams.addMember({ teamId: team.id, userId: member.id, role: "member" });
      assert.equal(await teams.setMemberRole(team.id, member.id, "admin"), true);
      assert.equal(await teams.setMemberRole(team.id, owner.id, "member"), false);
      const members = await teams.listMembers(team.id);
      assert.deepEqual(
        members.map((m) => [m.userId, m.role]),
        [
          [owner.id, "owner"],
          [member.id, "admin"],
        ],
      );
      assert.equal(members[1]?.name, "Mem");
      assert.equal(await teams.removeMember(team.id, owner.id), false);
      assert.equal(await teams.removeMember(team.id, member.id), true);
      assert.equal(await teams.removeMember(team.id, member.id), false);
      assert.equal(await teams.getMembership(team.id, member.id), undefined);
    });

    test("members list the owner, then admins, then members, each in join order", async () => {
      const teams = createTeamsRepo(db);
      const owner = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: owner.id });
      for (const role of ["member", "admin", "member", "admin"] as const) {
        const user = await createTestUser(db);
        await teams.addMember({ teamId: team.id, userId: user.id, role });
      }
      const members = await teams.listMembers(team.id);
      assert.deepEqual(
        members.map((m) => m.role),
        ["owner", "admin", "admin", "member", "member"],
      );
      for (const [earlier, later] of [members.slice(1, 3), members.slice(3, 5)]) {
        assert.ok(earlier && later);
        const before = earlier.joinedAt.getTime() - later.joinedAt.getTime();
        assert.ok(before < 0 || (before === 0 && earlier.email < later.email), "join order, then email");
      }
    });

    test("soft delete hides the team everywhere but the admin view; the platform team stays", async () => {
      const teams = createTeamsRepo(db);
      const owner = await createTestUser(db);
      const team = await teams.insertWithOwner({
        name: "Gone",
        slug: `g-${uniqueTag()}`,
        ownerId: owner.id,
        isDefault: true,
      });
      assert.equal(await teams.rename(team.id, "Still here"), true);
      assert.equal(await teams.softDelete(team.id), true);
      assert.equal(await teams.softDelete(team.id), false);
      assert.equal(await teams.getById(team.id), undefined);
      assert.equal((await teams.getById(team.id, { includeDeleted: true }))?.name, "Still here");
      assert.deepEqual(await teams.listForUser(owner.id), []);
      assert.equal(await teams.getDefaultForUser(owner.id), undefined);
      assert.equal(await teams.getMembership(team.id, owner.id), undefined);
      assert.equal(await teams.rename(team.id, "x"), false);
      assert.equal(await teams.enableByoc(team.id), false);
      assert.equal(await teams.softDelete(PLATFORM_TEAM_ID), false);
      // The deleted team no longer holds the owner's one default slot.
      const next = await teams.insertWithOwner({
        name: "Next",
        slug: `n-${uniqueTag()}`,
        ownerId: owner.id,
        isDefault: true,
      });
      assert.equal((await teams.getDefaultForUser(owner.id))?.id, next.id);
    });

    test("BYOC is switched on, once", async () => {
      const teams = createTeamsRepo(db);
      const team = await createTestTeam(db);
      assert.equal(await teams.enableByoc(team.id), true);
      assert.equal((await teams.getById(team.id))?.isByoc, true);
      assert.equal(await teams.enableByoc(team.id), true);
    });

    test("sole-owned and owned teams", async () => {
      const teams = createTeamsRepo(db);
      const owner = await createTestUser(db);
      const alone = await createTestTeam(db, { ownerId: owner.id });
      const shared = await createTestTeam(db, { ownerId: owner.id });
      const deleted = await createTestTeam(db, { ownerId: owner.id });
      await teams.softDelete(deleted.id);
      await teams.addMember({ teamId: shared.id, userId: (await createTestUser(db)).id, role: "member" });
      assert.deepEqual(
        (await teams.listSoleOwnedTeams(owner.id)).map((t) => t.id),
        [alone.id],
      );
      assert.deepEqual((await teams.listOwnedTeamIds(owner.id)).sort(), [alone.id, shared.id].sort());
    });

    test("the admin list counts members, active capsules and channels; live teams first; no platform team", async () => {
      const teams = createTeamsRepo(db);
      const owner = await createTestUser(db, { name: "Olive", email: `olive-${uniqueTag()}@x.io` });
      const team = await createTestTeam(db, { ownerId: owner.id });
      await teams.addMember({ teamId: team.id, userId: (await createTestUser(db)).id, role: "member" });
      for (const status of ["pending", "running", "paused", "missing", "stopped", "error"]) {
        await db.query("INSERT INTO sandboxes (team_id, host_id, status) VALUES ($1, gen_random_uuid(), $2)", [
          team.id,
          status,
        ]);
      }
      await db.query("INSERT INTO channels (team_id, name, provider) VALUES ($1, 'a', 'slack'), ($1, 'b', 'slack')", [
        team.id,
      ]);
      const deleted = await createTestTeam(db);
      await teams.softDelete(deleted.id);
      const rows = await teams.listForAdmin({ limit: 1000, offset: 0 });
      assert.equal(rows.length, await teams.countForAdmin());
      assert.ok(!rows.some((t) => t.id === PLATFORM_TEAM_ID));
      const row = rows.find((t) => t.id === team.id);
      assert.ok(row);
      assert.equal(row.memberCount, 2);
      assert.equal(row.ownerName, "Olive");
      assert.equal(row.ownerEmail, owner.email);
      assert.equal(row.activeSandboxCount, 4);
      assert.equal(row.channelCount, 2);
      const firstDeleted = rows.findIndex((t) => t.deletedAt !== null);
      assert.ok(firstDeleted > rows.indexOf(row), "deleted teams come after live ones");
      assert.ok(rows.slice(firstDeleted).every((t) => t.deletedAt !== null));
    });

    test("cascade rules: a team row with members cannot be removed; its channels go with it", async () => {
      const team = await createTestTeam(db);
      await assert.rejects(db.query("DELETE FROM teams WHERE id = $1", [team.id]), (err) => isForeignKeyViolation(err));
      await db.query("INSERT INTO channels (team_id, name, provider) VALUES ($1, 'c', 'slack')", [team.id]);
      await db.query("DELETE FROM users_teams WHERE team_id = $1", [team.id]);
      await db.query("DELETE FROM teams WHERE id = $1", [team.id]);
      assert.equal((await db.query("SELECT 1 FROM channels WHERE team_id = $1", [team.id])).rowCount, 0);
    });
  });
}
