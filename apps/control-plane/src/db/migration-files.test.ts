import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultMigrationsDir, loadMigrations } from "./migration-files.js";

async function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "wrenn-migrations-"));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("the shipped migrations are numbered 1..n without gaps, each with both scripts", async () => {
  const migrations = await loadMigrations(defaultMigrationsDir());
  assert.ok(migrations.length >= 8);
  assert.deepEqual(
    migrations.map((m) => m.version),
    migrations.map((_, i) => i + 1),
  );
  for (const m of migrations) {
    assert.match(m.checksum, /^[0-9a-f]{64}$/);
    assert.ok(m.up.trim() && m.down.trim(), `${m.name} has non-empty scripts`);
  }
});

test("loads pairs in version order and ignores other files", async () => {
  await withDir(
    {
      "0002_b.up.sql": "B",
      "0002_b.down.sql": "b",
      "0001_a.up.sql": "A",
      "0001_a.down.sql": "a",
      "README.txt": "ignored",
    },
    async (dir) => {
      const migrations = await loadMigrations(dir);
      assert.deepEqual(
        migrations.map((m) => [m.version, m.name, m.up, m.down]),
        [
          [1, "a", "A", "a"],
          [2, "b", "B", "b"],
        ],
      );
    },
  );
});

test("rejects badly named files, missing halves and one version under two names", async () => {
  await withDir({ "1_short.up.sql": "x" }, async (dir) => {
    await assert.rejects(loadMigrations(dir), /1_short\.up\.sql is not named/);
  });
  await withDir({ "0001_a.up.sql": "x" }, async (dir) => {
    await assert.rejects(loadMigrations(dir), /0001_a has no \.down\.sql/);
  });
  await withDir({ "0001_a.down.sql": "x" }, async (dir) => {
    await assert.rejects(loadMigrations(dir), /0001_a has no \.up\.sql/);
  });
  await withDir({ "0001_a.up.sql": "x", "0001_b.down.sql": "y" }, async (dir) => {
    await assert.rejects(loadMigrations(dir), /two names/);
  });
});
