import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import type { Queryable } from "./database.js";
import { DatabaseError, isCheckViolation, isUniqueViolation, SqlState } from "./database-error.js";

/** Waits until `predicate` holds, polling; fails after `ms`. */
async function eventually(predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

for (const backend of databaseBackends) {
  describe(`Database (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
      await db.exec(`
        CREATE TABLE kv (k text PRIMARY KEY, v integer NOT NULL CHECK (v >= 0));
        CREATE TABLE typed (i8 bigint, n numeric(18,4), d date, ts timestamptz, j jsonb, u uuid[], t text[], b bytea);
      `);
    });
    after(async () => {
      await db.close();
    });

    test("kind names the backend", () => {
      assert.equal(db.kind, backend.kind);
    });

    test("query returns rows and rowCount for SELECT and for changes", async () => {
      const inserted = await db.query("INSERT INTO kv VALUES ($1, $2), ($3, $4)", ["a", 1, "b", 2]);
      assert.equal(inserted.rowCount, 2);
      const selected = await db.query<{ k: string; v: number }>("SELECT k, v FROM kv ORDER BY k");
      assert.deepEqual(selected.rows, [
        { k: "a", v: 1 },
        { k: "b", v: 2 },
      ]);
      assert.equal(selected.rowCount, 2);
      const updated = await db.query("UPDATE kv SET v = v + 1 WHERE k = ANY($1::text[])", [["a", "b", "zzz"]]);
      assert.equal(updated.rowCount, 2);
      const none = await db.query("DELETE FROM kv WHERE k = $1", ["nope"]);
      assert.equal(none.rowCount, 0);
    });

    test("both backends map column types to the same JavaScript values", async () => {
      const ts = "2024-03-04T05:06:07.123456Z";
      await db.query("INSERT INTO typed VALUES ($1, $2, $3, $4, $5::jsonb, $6::uuid[], $7::text[], $8)", [
        9_007_199_254_740_991,
        "12.5",
        "2024-02-29",
        ts,
        JSON.stringify({ a: [1, "x"], b: null }),
        ["00000000-0000-0000-0000-000000000001"],
        ["x", "y,z", 'q"uote'],
        new Uint8Array([0, 1, 255]),
      ]);
      const { rows } = await db.query<Record<string, unknown>>(
        "SELECT i8, n, d, ts, j, u, t, b, count(*) OVER () AS c FROM typed",
      );
      const row = rows[0];
      assert.ok(row);
      assert.equal(row["i8"], 9_007_199_254_740_991);
      assert.equal(row["c"], 1);
      assert.equal(row["n"], "12.5000");
      assert.equal(row["d"], "2024-02-29");
      assert.ok(row["ts"] instanceof Date);
      assert.equal((row["ts"] as Date).toISOString(), "2024-03-04T05:06:07.123Z");
      assert.deepEqual(row["j"], { a: [1, "x"], b: null });
      assert.deepEqual(row["u"], ["00000000-0000-0000-0000-000000000001"]);
      assert.deepEqual(row["t"], ["x", "y,z", 'q"uote']);
      assert.deepEqual(Uint8Array.from(row["b"] as Uint8Array), new Uint8Array([0, 1, 255]));
    });

    test("a transaction commits, and rolls back when the callback throws", async () => {
      const result = await db.transaction(async (tx) => {
        await tx.query("INSERT INTO kv VALUES ('tx-commit', 1)");
        return "done";
      });
      assert.equal(result, "done");
      const boom = new Error("boom");
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO kv VALUES ('tx-rollback', 1)");
          throw boom;
        }),
        (err) => err === boom,
      );
      const { rows } = await db.query<{ k: string }>("SELECT k FROM kv WHERE k LIKE 'tx-%' ORDER BY k");
      assert.deepEqual(
        rows.map((r) => r.k),
        ["tx-commit"],
      );
    });

    test("a failed statement inside a transaction rolls the whole transaction back", async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO kv VALUES ('tx-partial', 1)");
          await tx.query("INSERT INTO kv VALUES ('tx-partial', 2)");
        }),
        (err) => isUniqueViolation(err, "kv_pkey"),
      );
      assert.equal((await db.query("SELECT 1 FROM kv WHERE k = 'tx-partial'")).rowCount, 0);
    });

    test("concurrent callers never run inside someone else's transaction", async () => {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tx = db.transaction(async (t) => {
        await t.query("INSERT INTO kv VALUES ('iso-tx', 1)");
        await gate;
        throw new Error("roll back");
      });
      await sleep(20);
      // Issued while the transaction is open; must not become part of it (and so survive its rollback).
      const outside = db.query("INSERT INTO kv VALUES ('iso-outside', 1)");
      await sleep(20);
      release();
      await assert.rejects(tx, /roll back/);
      await outside;
      const { rows } = await db.query<{ k: string }>("SELECT k FROM kv WHERE k LIKE 'iso-%' ORDER BY k");
      assert.deepEqual(
        rows.map((r) => r.k),
        ["iso-outside"],
      );
    });

    test("calling the database from inside its own transaction throws instead of deadlocking", async () => {
      await assert.rejects(
        db.transaction(async () => {
          await db.query("SELECT 1");
        }),
        (err) => err instanceof DatabaseError && /use the transaction handle/.test(err.message),
      );
    });

    test("a transaction handle cannot be used after the transaction ends", async () => {
      let leaked: Queryable | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      assert.ok(leaked);
      await assert.rejects(leaked.query("SELECT 1"), /already finished/);
    });

    test("errors carry SQLSTATE and constraint but not the offending values", async () => {
      await db.query("INSERT INTO kv VALUES ('dup-secret-value', 1)");
      const dup = await db.query("INSERT INTO kv VALUES ('dup-secret-value', 1)").catch((err: unknown) => err);
      assert.ok(dup instanceof DatabaseError);
      assert.equal(dup.sqlState, SqlState.uniqueViolation);
      assert.equal(dup.constraint, "kv_pkey");
      assert.doesNotMatch(`${dup.message} ${String(dup.cause)}`, /secret/);
      const check = await db.query("INSERT INTO kv VALUES ('neg', -1)").catch((err: unknown) => err);
      assert.ok(isCheckViolation(check, "kv_v_check"));
      const badUuid = await db.query("SELECT $1::uuid", ["not-a-uuid-secret"]).catch((err: unknown) => err);
      assert.ok(badUuid instanceof DatabaseError);
      assert.equal(badUuid.sqlState, SqlState.invalidTextRepresentation);
      assert.doesNotMatch(badUuid.message, /secret/);
      const syntax = await db.query("SELEC 1").catch((err: unknown) => err);
      assert.ok(syntax instanceof DatabaseError);
      assert.match(syntax.message, /syntax error.*42601/);
    });

    test("LISTEN/NOTIFY delivers payloads until unsubscribed; NOTIFY in a transaction waits for COMMIT", async () => {
      const got: string[] = [];
      const stop = await db.listen("wrenn_test", (payload) => got.push(payload));
      await db.notify("wrenn_test", "one");
      await eventually(() => got.length === 1);
      await db.transaction(async (tx) => {
        await tx.notify("wrenn_test", "in-tx");
        await sleep(50);
        assert.deepEqual(got, ["one"], "delivered before COMMIT");
      });
      await eventually(() => got.length === 2);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.notify("wrenn_test", "rolled-back");
          throw new Error("abort");
        }),
      );
      await stop();
      await db.notify("wrenn_test", "after-stop");
      await db.query("SELECT 1");
      await sleep(100);
      assert.deepEqual(got, ["one", "in-tx"]);
    });

    test("channel names must be plain identifiers", async () => {
      await assert.rejects(
        db.listen('x"; DROP TABLE kv; --', () => {}),
        TypeError,
      );
      await assert.rejects(db.notify("Upper", "x"), TypeError);
    });

    test("a closed database refuses queries", async () => {
      const other = await backend.open();
      await other.close();
      await other.close();
      await assert.rejects(
        other.query("SELECT 1"),
        (err) => err instanceof DatabaseError && /closed/.test(err.message),
      );
    });
  });
}
