import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { databaseBackends, useDatabases, usePostgres } from "../testing/databases.js";
import type { Queryable } from "./database.js";
import { loadMigrations, type Migration } from "./migration-files.js";
import { migrateDown, migrateUp, migrationStatus } from "./migrator.js";

const PLATFORM = "00000000-0000-0000-0000-000000000000";

async function publicTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
  );
  return rows.map((r) => r.name);
}

function fakeMigration(version: number, name: string, up: string, down: string): Migration {
  return { version, name, up, down, checksum: `${version}-${up.length}` };
}

for (const backend of databaseBackends) {
  describe(`migrator (${backend.kind})`, { timeout: 300_000 }, () => {
    test("all ups, all downs, all ups again", async () => {
      await using db = await backend.open({ migrated: false });
      const migrations = await loadMigrations();
      const up = await migrateUp(db);
      assert.deepEqual(
        up.map((s) => s.version),
        migrations.map((m) => m.version),
      );
      assert.deepEqual(await migrateUp(db), [], "a second run applies nothing");
      assert.ok((await publicTables(db)).includes("sandboxes"));

      const down = await migrateDown(db, migrations.length + 5);
      assert.deepEqual(
        down.map((s) => s.version),
        migrations.map((m) => m.version).reverse(),
      );
      assert.deepEqual(await publicTables(db), ["schema_migrations"], "every down removes what its up created");
      assert.deepEqual(await migrateDown(db, 1), [], "nothing left to roll back");

      assert.equal((await migrateUp(db)).length, migrations.length);
      const seeded = await db.query("SELECT 1 FROM templates WHERE name = 'minimal' AND team_id = $1", [PLATFORM]);
      assert.equal(seeded.rowCount, 1);
      const status = await migrationStatus(db);
      assert.ok(status.every((m) => m.appliedAt instanceof Date && !m.changed && !m.unknown));
    });

    test("the platform seed rolls back with rows that reference the platform team", async () => {
      await using db = await backend.open();
      const other = "11111111-1111-1111-1111-111111111111";
      await db.exec(`
        INSERT INTO teams (id, name, slug) VALUES ('${other}', 'Other', 'other');
        INSERT INTO users (id, email) VALUES ('22222222-2222-2222-2222-222222222222', 'a@example.com');
        INSERT INTO users_teams (user_id, team_id, role) VALUES
          ('22222222-2222-2222-2222-222222222222', '${PLATFORM}', 'member'),
          ('22222222-2222-2222-2222-222222222222', '${other}', 'owner');
        INSERT INTO team_api_keys (team_id, key_hash) VALUES ('${PLATFORM}', 'h1'), ('${other}', 'h2');
        INSERT INTO hosts (id, type, team_id) VALUES ('33333333-3333-3333-3333-333333333333', 'byoc', '${PLATFORM}');
        INSERT INTO host_tags (host_id, tag) VALUES ('33333333-3333-3333-3333-333333333333', 'gpu');
        INSERT INTO hosts (type, team_id) VALUES ('byoc', '${other}');
        INSERT INTO sandboxes (team_id, host_id) VALUES ('${PLATFORM}', gen_random_uuid()), ('${other}', gen_random_uuid());
        INSERT INTO channels (team_id, name, provider) VALUES ('${PLATFORM}', 'c', 'webhook');
      `);
      const [step] = await migrateDown(db, 1);
      assert.equal(step?.name, "platform_seed");
      for (const table of ["sandboxes", "team_api_keys", "users_teams", "hosts"]) {
        const { rows } = await db.query<{ team: string }>(`SELECT team_id AS team FROM ${table}`);
        assert.deepEqual(
          rows.map((r) => r.team),
          [other],
          `${table}: platform rows removed, others kept`,
        );
      }
      assert.equal((await db.query("SELECT 1 FROM teams WHERE id = $1", [PLATFORM])).rowCount, 0);
      assert.equal((await db.query("SELECT 1 FROM templates WHERE name = 'minimal'")).rowCount, 0);
      assert.deepEqual(
        (await migrateUp(db)).map((s) => s.name),
        ["platform_seed"],
      );
    });

    test("a failing migration leaves no trace and names itself", async () => {
      await using db = await backend.open({ migrated: false });
      const migrations = [
        fakeMigration(1, "ok", "CREATE TABLE a (x int)", "DROP TABLE a"),
        fakeMigration(2, "broken", "CREATE TABLE b (x int); INSERT INTO nowhere VALUES (1)", "DROP TABLE b"),
      ];
      await assert.rejects(migrateUp(db, { migrations }), /migration 0002_broken \(up\) failed/);
      assert.deepEqual(await publicTables(db), ["a", "schema_migrations"]);
      const status = await migrationStatus(db, { migrations });
      assert.deepEqual(
        status.map((m) => [m.name, m.appliedAt !== undefined]),
        [
          ["ok", true],
          ["broken", false],
        ],
      );
    });

    test("refuses to migrate a database that is newer than the code", async () => {
      await using db = await backend.open({ migrated: false });
      const v1 = [fakeMigration(1, "one", "CREATE TABLE a (x int)", "DROP TABLE a")];
      const v2 = [...v1, fakeMigration(2, "two", "CREATE TABLE b (x int)", "DROP TABLE b")];
      await migrateUp(db, { migrations: v2 });
      await assert.rejects(migrateUp(db, { migrations: v1 }), /does not know: 0002_two/);
      await assert.rejects(migrateDown(db, 1, { migrations: v1 }), /cannot roll back 0002_two/);
      const status = await migrationStatus(db, { migrations: v1 });
      assert.deepEqual(
        status.map((m) => [m.name, m.unknown]),
        [
          ["one", false],
          ["two", true],
        ],
      );
    });

    test("status flags an applied migration whose file changed", async () => {
      await using db = await backend.open({ migrated: false });
      const original = fakeMigration(1, "one", "CREATE TABLE a (x int)", "DROP TABLE a");
      await migrateUp(db, { migrations: [original] });
      const edited = { ...original, up: "CREATE TABLE a (x bigint)", checksum: "different" };
      const [entry] = await migrationStatus(db, { migrations: [edited] });
      assert.equal(entry?.changed, true);
    });
  });
}

describe("migrator across backends", { timeout: 120_000 }, () => {
  test("the migrated schema is the same on PGlite and PostgreSQL", async () => {
    const [pglite, postgres] = await useDatabases();
    assert.ok(pglite && postgres);
    try {
      const columns = `SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`;
      const indexes = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1";
      assert.deepEqual((await pglite.query(columns)).rows, (await postgres.query(columns)).rows);
      assert.deepEqual((await pglite.query(indexes)).rows, (await postgres.query(indexes)).rows);
    } finally {
      await pglite.close();
      await postgres.close();
    }
  });

  test("concurrent migrateUp calls on one PostgreSQL database apply each migration once", async () => {
    await using empty = await usePostgres({ migrated: false });
    assert.ok(empty.connectionString);
    const { openPostgresDatabase } = await import("./postgres-database.js");
    await using a = await openPostgresDatabase({ connectionString: empty.connectionString });
    await using b = await openPostgresDatabase({ connectionString: empty.connectionString });
    const [ranA, ranB] = await Promise.all([migrateUp(a), migrateUp(b)]);
    const all = [...ranA, ...ranB].map((s) => s.version).sort((x, y) => x - y);
    assert.deepEqual(
      all,
      (await loadMigrations()).map((m) => m.version),
    );
  });
});
