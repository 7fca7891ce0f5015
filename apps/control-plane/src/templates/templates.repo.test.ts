import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isUniqueViolation } from "../db/database-error.js";
import { MINIMAL_TEMPLATE_ID, MINIMAL_TEMPLATE_NAME, PLATFORM_TEAM_ID } from "../db/seeds.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam, uniqueTag } from "../testing/repo-fixtures.js";
import {
  createTemplatesRepo,
  type NewTemplate,
  TEMPLATE_NAME_RESERVED_CONSTRAINT,
  TEMPLATE_NAME_TAKEN_CONSTRAINT,
} from "./templates.repo.js";

function template(teamId: string, name: string, fields: Partial<NewTemplate> = {}): NewTemplate {
  return { teamId, name, type: "snapshot", vcpus: 2, memoryMb: 1024, sizeBytes: 123_456_789_012, ...fields };
}

for (const backend of databaseBackends) {
  describe(`templates repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("the minimal template is seeded as a global base template", async () => {
      const minimal = await createTemplatesRepo(db).getPlatformByName(MINIMAL_TEMPLATE_NAME);
      assert.equal(minimal?.id, MINIMAL_TEMPLATE_ID);
      assert.equal(minimal?.teamId, PLATFORM_TEAM_ID);
      assert.equal(minimal?.type, "base");
      assert.equal(minimal?.defaultUser, "root");
    });

    test("insert keeps every field, including JSON and a large size", async () => {
      const templates = createTemplatesRepo(db);
      const team = await createTestTeam(db);
      const created = await templates.insert(
        template(team.id, `t-${uniqueTag()}`, {
          defaultUser: "wrenn-user",
          defaultEnv: { PATH: "/usr/bin", EMPTY: "" },
          metadata: { envd_version: "0.2.0" },
        }),
      );
      assert.equal(created.sizeBytes, 123_456_789_012);
      assert.deepEqual(created.defaultEnv, { PATH: "/usr/bin", EMPTY: "" });
      assert.deepEqual(created.metadata, { envd_version: "0.2.0" });
      assert.deepEqual(await templates.getById(created.id), created);
    });

    test("names are unique per team but may repeat across teams", async () => {
      const templates = createTemplatesRepo(db);
      const a = await createTestTeam(db);
      const b = await createTestTeam(db);
      const name = `dup-${uniqueTag()}`;
      await templates.insert(template(a.id, name));
      await templates.insert(template(b.id, name));
      await assert.rejects(templates.insert(template(a.id, name)), (err) =>
        isUniqueViolation(err, TEMPLATE_NAME_TAKEN_CONSTRAINT),
      );
    });

    test("a team template may not take a global name, on insert or rename", async () => {
      const templates = createTemplatesRepo(db);
      const team = await createTestTeam(db);
      await assert.rejects(templates.insert(template(team.id, MINIMAL_TEMPLATE_NAME)), (err) =>
        isUniqueViolation(err, TEMPLATE_NAME_RESERVED_CONSTRAINT),
      );
      const own = await templates.insert(template(team.id, `mine-${uniqueTag()}`));
      await assert.rejects(db.query("UPDATE templates SET name = 'minimal' WHERE id = $1", [own.id]), (err) =>
        isUniqueViolation(err, TEMPLATE_NAME_RESERVED_CONSTRAINT),
      );
      const global = await templates.insert(template(PLATFORM_TEAM_ID, `global-${uniqueTag()}`, { type: "base" }));
      assert.equal(global.teamId, PLATFORM_TEAM_ID);
    });

    test("a name resolves to the team's own template first, then the global one", async () => {
      const templates = createTemplatesRepo(db);
      const team = await createTestTeam(db);
      const other = await createTestTeam(db);
      const name = `shadow-${uniqueTag()}`;
      const own = await templates.insert(template(team.id, name));
      // A global template created later with the same name (the trigger only guards team rows).
      const global = await templates.insert(template(PLATFORM_TEAM_ID, name));
      assert.equal((await templates.getForTeam(team.id, name))?.id, own.id);
      assert.equal((await templates.getForTeam(other.id, name))?.id, global.id);
      assert.equal((await templates.getForTeam(other.id, MINIMAL_TEMPLATE_NAME))?.id, MINIMAL_TEMPLATE_ID);
      assert.equal(await templates.getForTeam(team.id, "no-such-template"), undefined);
    });

    test("lists: team plus global (optionally by type), team only, everything", async () => {
      const templates = createTemplatesRepo(db);
      const team = await createTestTeam(db);
      const other = await createTestTeam(db);
      const snap = await templates.insert(template(team.id, `snap-${uniqueTag()}`));
      const base = await templates.insert(template(team.id, `base-${uniqueTag()}`, { type: "base" }));
      const foreign = await templates.insert(template(other.id, `foreign-${uniqueTag()}`));
      const visible = (await templates.listForTeam(team.id)).map((t) => t.id);
      assert.ok(visible.includes(snap.id) && visible.includes(base.id) && visible.includes(MINIMAL_TEMPLATE_ID));
      assert.ok(!visible.includes(foreign.id));
      const snapshots = await templates.listForTeam(team.id, "snapshot");
      assert.ok(snapshots.every((t) => t.type === "snapshot"));
      assert.ok(snapshots.some((t) => t.id === snap.id));
      assert.deepEqual((await templates.listTeamOnly(team.id)).map((t) => t.id).sort(), [snap.id, base.id].sort());
      const everything = (await templates.listAll()).map((t) => t.id);
      assert.ok([snap.id, base.id, foreign.id, MINIMAL_TEMPLATE_ID].every((id) => everything.includes(id)));
    });

    test("deletes are scoped to the team and return what they removed", async () => {
      const templates = createTemplatesRepo(db);
      const team = await createTestTeam(db);
      const one = await templates.insert(template(team.id, `one-${uniqueTag()}`));
      const two = await templates.insert(template(team.id, `two-${uniqueTag()}`));
      assert.equal(await templates.deleteForTeam(team.id, MINIMAL_TEMPLATE_NAME), undefined, "not the global one");
      assert.equal((await templates.deleteForTeam(team.id, one.name))?.id, one.id);
      assert.equal(await templates.deleteForTeam(team.id, one.name), undefined);
      assert.deepEqual(
        (await templates.deleteByTeam(team.id)).map((t) => t.id),
        [two.id],
      );
      assert.ok(await templates.getById(MINIMAL_TEMPLATE_ID));
    });
  });
}
