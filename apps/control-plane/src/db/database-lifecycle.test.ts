import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { usePostgres } from "../testing/databases.js";
import { lockDataDir } from "./data-dir-lock.js";
import { openDatabase } from "./database.js";
import { DatabaseError } from "./database-error.js";
import { openPgliteDatabase } from "./pglite-database.js";
import { openPostgresDatabase } from "./postgres-database.js";

describe("PGlite on disk", { timeout: 120_000 }, () => {
  test("keeps data across reopen and refuses a second opener while open", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wrenn-pglite-"));
    try {
      const pgdata = join(dir, "pgdata");
      const first = await openDatabase({ pgliteDataDir: pgdata });
      assert.equal(first.kind, "pglite");
      await first.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
      await assert.rejects(
        openPgliteDatabase({ dataDir: pgdata }),
        (err) => err instanceof DatabaseError && /already open in this process/.test(err.message),
      );
      await first.close();
      await using second = await openPgliteDatabase({ dataDir: pgdata });
      const { rows } = await second.query<{ v: string }>("SELECT v FROM kept");
      assert.deepEqual(rows, [{ v: "still here" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a lock left by a live process is refused, one left by a dead process is taken over", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wrenn-pglite-"));
    try {
      // PID 1 always exists: the directory counts as in use by another process.
      await writeFile(join(dir, "wrenn.lock"), "1\n");
      await assert.rejects(lockDataDir(dir), /in use by process 1/);
      // No process has this PID (above the kernel's pid_max): a stale lock.
      await writeFile(join(dir, "wrenn.lock"), "99999999\n");
      const lock = await lockDataDir(dir);
      assert.equal((await readFile(join(dir, "wrenn.lock"), "utf8")).trim(), String(process.pid));
      await lock.release();
      await assert.rejects(readFile(join(dir, "wrenn.lock")), { code: "ENOENT" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("PostgreSQL connection handling", { timeout: 60_000 }, () => {
  test("LISTEN survives the server dropping the listening connection", async () => {
    await using test = await usePostgres();
    assert.ok(test.connectionString);
    const errors: DatabaseError[] = [];
    await using db = await openPostgresDatabase({
      connectionString: test.connectionString,
      onBackgroundError: (err) => errors.push(err),
    });
    const got: string[] = [];
    await db.listen("wrenn_reconnect", (payload) => got.push(payload));
    const killed = await test.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'wrenn-control-plane-listen' AND datname = current_database()`,
    );
    assert.equal(killed.rowCount, 1);
    // Notifications sent while it reconnects are lost (documented); keep sending until one arrives.
    const deadline = Date.now() + 10_000;
    while (got.length === 0) {
      assert.ok(Date.now() < deadline, "no notification after the reconnect");
      await db.notify("wrenn_reconnect", "after");
      await sleep(100);
    }
    assert.equal(got[0], "after");
    assert.ok(errors.length >= 1, "the dropped connection was reported");
  });

  test("a server that cannot be reached fails at open with a DatabaseError", async () => {
    await assert.rejects(
      openPostgresDatabase({ connectionString: "postgresql://nobody@/nowhere?host=/nonexistent-wrenn-dir" }),
      (err) => err instanceof DatabaseError && err.sqlState === undefined && /database unavailable/.test(err.message),
    );
  });
});
