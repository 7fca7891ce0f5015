import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { usePostgres } from "../testing/databases.js";
import { loadMigrations } from "./migration-files.js";

const CLI = fileURLToPath(new URL("./migrate.cli.ts", import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const childEnv = { ...process.env, DATABASE_URL: "", ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", CLI, ...args], {
      env: childEnv,
      // A hang guard, not an expectation: a fresh on-disk PGlite runs initdb (seconds when idle, a minute on a saturated machine).
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("migrate CLI", { timeout: 600_000 }, () => {
  test("--help prints the usage; bad command lines exit 2 with the usage and no stack", async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: migrate\.cli\.ts <up \| down \[n\] \| status>/);
    for (const args of [["sideways", "--pglite", "/x"], ["down", "0", "--pglite", "/x"], ["up"], ["up", "--pglite"]]) {
      const bad = await cli(args);
      assert.equal(bad.code, 2, args.join(" "));
      assert.match(bad.stderr, /^migrate: .+\n\nUsage:/);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
    }
  });

  test("up, status, down n and status on a PGlite data directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wrenn-migrate-cli-"));
    try {
      const total = (await loadMigrations()).length;
      const pgdata = join(dir, "pgdata");
      const up = await cli(["up", "--pglite", pgdata]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(up.stdout.trim().split("\n").length, total);
      assert.match(up.stdout, /^applied 0001_accounts$/m);
      const down = await cli(["down", "2", "--pglite", pgdata]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(down.stdout.trim().split("\n").length, 2);
      const status = await cli(["status", "--pglite", pgdata]);
      assert.equal(status.code, 0, status.stderr);
      const lines = status.stdout.trim().split("\n");
      assert.equal(lines.length, total);
      assert.equal(lines.filter((l) => / pending$/.test(l)).length, 2);
      assert.equal(lines.filter((l) => / applied \d{4}-/.test(l)).length, total - 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("up and status through DATABASE_URL; a wrong URL fails with a message and exit 1", async () => {
    await using db = await usePostgres({ migrated: false });
    assert.ok(db.connectionString);
    const up = await cli(["up"], { DATABASE_URL: db.connectionString });
    assert.equal(up.code, 0, up.stderr);
    const tables = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'template_builds'");
    assert.equal(tables.rowCount, 1);
    const again = await cli(["up"], { DATABASE_URL: db.connectionString });
    assert.equal(again.stdout.trim(), "nothing to apply");
    const wrong = await cli(["status"], { DATABASE_URL: "postgresql://nobody@/nowhere?host=/nonexistent-dir" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^migrate: database unavailable/);
  });
});
