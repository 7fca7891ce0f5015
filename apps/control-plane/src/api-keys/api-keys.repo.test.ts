import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isUniqueViolation } from "../db/database-error.js";
import { createTeamsRepo } from "../teams/teams.repo.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam, createTestUser, uniqueTag } from "../testing/repo-fixtures.js";
import { createUsersRepo } from "../users/users.repo.js";
import { createApiKeysRepo } from "./api-keys.repo.js";

for (const backend of databaseBackends) {
  describe(`api keys repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    function newKey(teamId: string, createdBy: string | null) {
      return { teamId, name: `key ${uniqueTag()}`, keyHash: uniqueTag(), keyPrefix: "wrn_abcdef", createdBy };
    }

    test("insert and look up by hash; hashes are unique", async () => {
      const keys = createApiKeysRepo(db);
      const user = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: user.id });
      const input = newKey(team.id, user.id);
      const key = await keys.insert(input);
      assert.equal(key.teamId, team.id);
      assert.equal(key.keyPrefix, "wrn_abcdef");
      assert.equal(key.lastUsed, null);
      assert.deepEqual(await keys.getByHash(input.keyHash), key);
      assert.equal(await keys.getByHash("nope"), undefined);
      await assert.rejects(keys.insert({ ...input, name: "again" }), (err) =>
        isUniqueViolation(err, "team_api_keys_key_hash_key"),
      );
    });

    test("keys of a deleted team do not authenticate", async () => {
      const keys = createApiKeysRepo(db);
      const team = await createTestTeam(db);
      const input = newKey(team.id, null);
      await keys.insert(input);
      await createTeamsRepo(db).softDelete(team.id);
      assert.equal(await keys.getByHash(input.keyHash), undefined);
    });

    test("last use is recorded at most once a minute", async () => {
      const keys = createApiKeysRepo(db);
      const team = await createTestTeam(db);
      const input = newKey(team.id, null);
      const key = await keys.insert(input);
      await keys.touchLastUsed(key.id);
      const first = (await keys.getByHash(input.keyHash))?.lastUsed;
      assert.ok(first instanceof Date);
      await keys.touchLastUsed(key.id);
      assert.deepEqual((await keys.getByHash(input.keyHash))?.lastUsed, first);
      await db.query("UPDATE team_api_keys SET last_used = now() - interval '2 minutes' WHERE id = $1", [key.id]);
      await keys.touchLastUsed(key.id);
      const later = (await keys.getByHash(input.keyHash))?.lastUsed;
      assert.ok(later && later.getTime() >= first.getTime());
    });

    test("list with creator address, newest first; the address is empty once the creator is gone", async () => {
      const keys = createApiKeysRepo(db);
      const creator = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: creator.id });
      const older = await keys.insert(newKey(team.id, creator.id));
      await db.query("UPDATE team_api_keys SET created_at = now() - interval '1 hour' WHERE id = $1", [older.id]);
      const newer = await keys.insert(newKey(team.id, creator.id));
      const listed = await keys.listByTeamWithCreator(team.id);
      assert.deepEqual(
        listed.map((k) => [k.id, k.creatorEmail]),
        [
          [newer.id, creator.email],
          [older.id, creator.email],
        ],
      );
      await createUsersRepo(db).hardDelete(creator.id);
      assert.ok(
        (await keys.listByTeamWithCreator(team.id)).every((k) => k.creatorEmail === "" && k.createdBy === null),
      );
    });

    test("deletes are scoped: by team and id, by creator, by team", async () => {
      const keys = createApiKeysRepo(db);
      const user = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: user.id });
      const other = await createTestTeam(db);
      const key = await keys.insert(newKey(team.id, user.id));
      assert.equal(await keys.delete(other.id, key.id), false, "another team's key id");
      assert.equal(await keys.delete(team.id, key.id), true);
      await keys.insert(newKey(team.id, user.id));
      await keys.insert(newKey(other.id, user.id));
      await keys.insert(newKey(other.id, null));
      assert.equal(await keys.deleteByCreator(user.id), 2);
      assert.equal(await keys.deleteByTeam(other.id), 1);
      assert.equal((await keys.listByTeamWithCreator(other.id)).length, 0);
    });

    test("getForTeam is scoped to the team; deleteByCreatorInTeam leaves other teams' keys", async () => {
      const keys = createApiKeysRepo(db);
      const user = await createTestUser(db);
      const team = await createTestTeam(db, { ownerId: user.id });
      const other = await createTestTeam(db);
      const mine = await keys.insert(newKey(team.id, user.id));
      const elsewhere = await keys.insert(newKey(other.id, user.id));
      const colleague = await keys.insert(newKey(team.id, null));
      assert.deepEqual(await keys.getForTeam(team.id, mine.id), mine);
      assert.equal(await keys.getForTeam(other.id, mine.id), undefined);
      assert.equal(await keys.deleteByCreatorInTeam(team.id, user.id), 1);
      assert.equal(await keys.getForTeam(team.id, mine.id), undefined);
      assert.ok(await keys.getForTeam(other.id, elsewhere.id));
      assert.ok(await keys.getForTeam(team.id, colleague.id));
    });
  });
}
