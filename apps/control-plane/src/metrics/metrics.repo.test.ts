import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Queryable } from "../db/database.js";
import { createTeamsRepo } from "../teams/teams.repo.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam } from "../testing/repo-fixtures.js";
import { createMetricsRepo } from "./metrics.repo.js";

async function capsule(db: Queryable, teamId: string, status: string, vcpus: number, memoryMb: number) {
  await db.query("INSERT INTO sandboxes (team_id, host_id, status, vcpus, memory_mb) VALUES ($1, $2, $3, $4, $5)", [
    teamId,
    randomUUID(),
    status,
    vcpus,
    memoryMb,
  ]);
}

async function sample(db: Queryable, teamId: string, at: Date, values: [number, number, number]) {
  await db.query(
    `INSERT INTO sandbox_metrics_snapshots (team_id, sampled_at, running_count, vcpus_reserved, memory_mb_reserved)
     VALUES ($1, $2, $3, $4, $5)`,
    [teamId, at, ...values],
  );
}

async function samplesOf(db: Queryable, teamId: string) {
  const { rows } = await db.query<{ r: number; v: number; m: number }>(
    `SELECT running_count AS r, vcpus_reserved AS v, memory_mb_reserved AS m
     FROM sandbox_metrics_snapshots WHERE team_id = $1`,
    [teamId],
  );
  return rows;
}

for (const backend of databaseBackends) {
  describe(`metrics repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a sample counts running capsules and half of paused memory, rounded up", async () => {
      const metrics = createMetricsRepo(db);
      const busy = await createTestTeam(db);
      await capsule(db, busy.id, "running", 2, 1000);
      await capsule(db, busy.id, "running", 1, 512);
      await capsule(db, busy.id, "paused", 4, 1025);
      for (const status of ["pending", "stopped", "error", "missing"]) await capsule(db, busy.id, status, 8, 8000);
      const quiet = await createTestTeam(db);
      await capsule(db, quiet.id, "stopped", 1, 512);
      const deleted = await createTestTeam(db);
      await capsule(db, deleted.id, "running", 1, 512);
      await createTeamsRepo(db).softDelete(deleted.id);
      const empty = await createTestTeam(db);

      assert.ok((await metrics.sampleTeams()) >= 2);
      assert.deepEqual(await samplesOf(db, busy.id), [{ r: 2, v: 3, m: 1512 + 513 }]);
      assert.deepEqual(await samplesOf(db, quiet.id), [{ r: 0, v: 0, m: 0 }], "zeros keep the chart continuous");
      assert.deepEqual(await samplesOf(db, deleted.id), []);
      assert.deepEqual(await samplesOf(db, empty.id), []);
      assert.deepEqual(await metrics.getLive(busy.id), { runningCount: 2, vcpusReserved: 3, memoryMbReserved: 2025 });
      assert.deepEqual(await metrics.getLive(empty.id), { runningCount: 0, vcpusReserved: 0, memoryMbReserved: 0 });
    });

    test("peaks cover the last 30 days only", async () => {
      const metrics = createMetricsRepo(db);
      const team = randomUUID();
      const day = 86_400_000;
      await sample(db, team, new Date(Date.now() - 2 * day), [3, 6, 100]);
      await sample(db, team, new Date(Date.now() - 10 * day), [1, 8, 50]);
      await sample(db, team, new Date(Date.now() - 40 * day), [99, 99, 99_999]);
      assert.deepEqual(await metrics.getPeak(team), { runningCount: 3, vcpusReserved: 8, memoryMbReserved: 100 });
      assert.deepEqual(await metrics.getPeak(randomUUID()), { runningCount: 0, vcpusReserved: 0, memoryMbReserved: 0 });
    });

    test("the series keeps each bucket's maximum, buckets aligned on the epoch, within the lookback", async () => {
      const metrics = createMetricsRepo(db);
      const team = randomUUID();
      const base = Math.floor(Date.now() / 60_000) * 60 - 600; // a minute boundary ten minutes ago (seconds)
      const at = (s: number) => new Date((base + s) * 1000);
      await sample(db, team, at(1), [1, 1, 100]);
      await sample(db, team, at(30), [3, 1, 50]);
      await sample(db, team, at(59), [2, 4, 10]);
      await sample(db, team, at(61), [5, 0, 0]);
      await sample(db, team, new Date(Date.now() - 2 * 3600_000), [50, 50, 50]);
      const series = await metrics.getSeries(team, { bucketSeconds: 60, lookbackSeconds: 3600 });
      assert.deepEqual(series, [
        { bucket: new Date(base * 1000), runningCount: 3, vcpusReserved: 4, memoryMbReserved: 100 },
        { bucket: new Date((base + 60) * 1000), runningCount: 5, vcpusReserved: 0, memoryMbReserved: 0 },
      ]);
    });

    test("pruning removes samples past retention; team delete removes the team's", async () => {
      const metrics = createMetricsRepo(db);
      const team = randomUUID();
      const day = 86_400_000;
      await sample(db, team, new Date(Date.now() - 61 * day), [1, 1, 1]);
      await sample(db, team, new Date(Date.now() - 59 * day), [2, 2, 2]);
      assert.ok((await metrics.pruneSamples(60)) >= 1);
      assert.deepEqual(await samplesOf(db, team), [{ r: 2, v: 2, m: 2 }]);
      assert.equal(await metrics.deleteSamplesByTeam(team), 1);
      assert.deepEqual(await samplesOf(db, team), []);
    });
  });
}
