import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Queryable } from "../db/database.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createUsageRepo } from "./usage.repo.js";

async function sample(db: Queryable, teamId: string, at: string, vcpus: number, memoryMb: number) {
  await db.query(
    `INSERT INTO sandbox_metrics_snapshots (team_id, sampled_at, running_count, vcpus_reserved, memory_mb_reserved)
     VALUES ($1, $2::timestamptz, 1, $3, $4)`,
    [teamId, at, vcpus, memoryMb],
  );
}

for (const backend of databaseBackends) {
  describe(`usage repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    /** Samples around 2026-03-10 (UTC): three inside the day, one just before and one at the next midnight. */
    async function dayOfSamples(team: string) {
      await sample(db, team, "2026-03-09T23:59:59.999999Z", 100, 100_000);
      await sample(db, team, "2026-03-10T00:00:00Z", 2, 1024);
      await sample(db, team, "2026-03-10T12:00:00Z", 4, 512);
      await sample(db, team, "2026-03-10T23:59:59.999999Z", 1, 100);
      await sample(db, team, "2026-03-11T00:00:00Z", 100, 100_000);
    }

    test("a day is Σ reserved × period / 60 over its UTC samples, whatever the session time zone", async () => {
      const team = randomUUID();
      await dayOfSamples(team);
      const expected = { day: "2026-03-10", cpuMinutes: 1.1667, ramMbMinutes: 272.6667 }; // 7·10/60, 1636·10/60
      await db.transaction(async (tx) => {
        // Far from UTC: local midnight is not UTC midnight.
        await tx.exec("SET LOCAL TIME ZONE 'Pacific/Auckland'");
        const usage = createUsageRepo(tx);
        assert.deepEqual(await usage.computeDay(team, "2026-03-10"), expected);
        assert.ok((await usage.rollupDay("2026-03-10")) >= 1);
        assert.deepEqual(await usage.getRange(team, "2026-03-10", "2026-03-10"), [expected]);
      });
      assert.deepEqual(await createUsageRepo(db).computeDay(team, "2026-03-10", 5), {
        day: "2026-03-10",
        cpuMinutes: 0.5833,
        ramMbMinutes: 136.3333,
      });
    });

    test("rolling up again replaces the day; a day without samples has no row and computes to zero", async () => {
      const usage = createUsageRepo(db);
      const team = randomUUID();
      await dayOfSamples(team);
      await usage.rollupDay("2026-03-10");
      await sample(db, team, "2026-03-10T06:00:00Z", 6, 0);
      await usage.rollupDay("2026-03-10");
      assert.deepEqual(await usage.getRange(team, "2026-03-01", "2026-03-31"), [
        { day: "2026-03-10", cpuMinutes: 2.1667, ramMbMinutes: 272.6667 },
      ]);
      assert.deepEqual(await usage.computeDay(team, "2026-02-01"), {
        day: "2026-02-01",
        cpuMinutes: 0,
        ramMbMinutes: 0,
      });
    });

    test("range bounds are inclusive and ordered; upsert stores a computed day", async () => {
      const usage = createUsageRepo(db);
      const team = randomUUID();
      for (const day of ["2026-04-03", "2026-04-01", "2026-04-02", "2026-04-04"]) {
        await usage.upsertDay(team, { day, cpuMinutes: 1.5, ramMbMinutes: 2 });
      }
      await usage.upsertDay(team, { day: "2026-04-02", cpuMinutes: 9.12345, ramMbMinutes: 3 });
      const days = await usage.getRange(team, "2026-04-02", "2026-04-03");
      assert.deepEqual(days, [
        { day: "2026-04-02", cpuMinutes: 9.1235, ramMbMinutes: 3 },
        { day: "2026-04-03", cpuMinutes: 1.5, ramMbMinutes: 2 },
      ]);
      assert.equal(await usage.deleteByTeam(team), 4);
    });

    test("teams with recent samples", async () => {
      const usage = createUsageRepo(db);
      const recent = randomUUID();
      const old = randomUUID();
      await sample(db, recent, new Date(Date.now() - 86_400_000).toISOString(), 1, 1);
      await sample(db, old, new Date(Date.now() - 100 * 86_400_000).toISOString(), 1, 1);
      const teams = await usage.listTeamsWithSamples(93);
      assert.ok(teams.includes(recent));
      assert.ok(!teams.includes(old));
    });
  });
}
