import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { silentLogger } from "@wrenn/kit";
import { type TestDatabase, usePglite } from "../testing/databases.js";
import { createTestTeam } from "../testing/repo-fixtures.js";
import { createMetricsRepo } from "./metrics.repo.js";
import { createMetricsLoops } from "./metrics-loops.js";
import { addDays, utcDay } from "./stats.service.js";
import { createUsageRepo } from "./usage.repo.js";

describe("metrics loops", () => {
  let db: TestDatabase;
  before(async () => {
    db = await usePglite();
  });
  after(async () => {
    await db?.[Symbol.asyncDispose]();
  });

  const loops = (now?: () => number) =>
    createMetricsLoops({
      metrics: createMetricsRepo(db),
      usage: createUsageRepo(db),
      log: silentLogger,
      ...(now ? { now } : {}),
    });

  async function sampleAt(teamId: string, day: string, vcpus: number) {
    await db.query(
      `INSERT INTO sandbox_metrics_snapshots (team_id, sampled_at, running_count, vcpus_reserved, memory_mb_reserved)
       VALUES ($1, ($2::date)::timestamp AT TIME ZONE 'UTC' + interval '12 hours', 1, $3, 60)`,
      [teamId, day, vcpus],
    );
  }

  test("rollup backfills every missed past day after the last rolled-up one, never today; then nothing", async () => {
    const team = await createTestTeam(db);
    const today = utcDay(Date.now());
    for (const back of [5, 3, 2, 1, 0]) await sampleAt(team.id, addDays(today, -back), 6);
    await createUsageRepo(db).upsertDay(team.id, { day: addDays(today, -4), cpuMinutes: 1, ramMbMinutes: 1 });

    const l = loops(() => Date.parse(`${today}T12:00:00Z`)); // "today" cannot move mid-test
    assert.deepEqual(await l.rollupOnce(), [addDays(today, -3), addDays(today, -2), addDays(today, -1)]);
    const stored = await createUsageRepo(db).getRange(team.id, addDays(today, -10), today);
    assert.deepEqual(
      stored.map((d) => [d.day, d.cpuMinutes, d.ramMbMinutes]),
      [
        [addDays(today, -4), 1, 1],
        [addDays(today, -3), 1, 10],
        [addDays(today, -2), 1, 10],
        [addDays(today, -1), 1, 10],
      ],
      "day -5 precedes the last rolled-up day; one 10 s sample of 6 vCPU = 1 CPU minute",
    );
    assert.deepEqual(await l.rollupOnce(), [], "nothing left until tomorrow");
  });

  test("the sampler prunes samples older than 60 days and samples every team; start runs both at once", async () => {
    const team = await createTestTeam(db);
    await db.query(
      "INSERT INTO sandboxes (team_id, host_id, status, vcpus, memory_mb) VALUES ($1, $2, 'running', 2, 256)",
      [team.id, randomUUID()],
    );
    await db.query(
      `INSERT INTO sandbox_metrics_snapshots (team_id, sampled_at, running_count, vcpus_reserved, memory_mb_reserved)
       VALUES ($1, now() - interval '61 days', 1, 1, 1)`,
      [team.id],
    );
    const count = async () =>
      (
        await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM sandbox_metrics_snapshots WHERE team_id = $1 AND vcpus_reserved = $2",
          [team.id, 2],
        )
      ).rows[0]?.n;
    const l = loops();
    assert.ok((await l.sampleOnce()) >= 1);
    assert.equal(await count(), 1);
    const old = await db.query("SELECT 1 FROM sandbox_metrics_snapshots WHERE team_id = $1 AND vcpus_reserved = 1", [
      team.id,
    ]);
    assert.equal(old.rowCount, 0, "the 61-day-old sample is pruned");

    const running = l.start();
    await running[Symbol.asyncDispose]();
    assert.equal(await count(), 2, "start sampled once before disposal returned");
  });
});
