import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { isCheckViolation } from "../db/database-error.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam } from "../testing/repo-fixtures.js";
import { createMetricPointsRepo, type MetricPoint, type MetricTier } from "./metric-points.repo.js";

const EIGHT_GIB = 8 * 1024 ** 3;

function points(from: number, count: number): MetricPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    ts: from + i,
    cpuPct: 12.5 + i,
    memBytes: EIGHT_GIB + i,
    diskBytes: 1_000_000 * i,
  }));
}

for (const backend of databaseBackends) {
  describe(`metric points repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("batch insert keeps values (64-bit sizes, fractional CPU) and skips points already stored", async () => {
      const repo = createMetricPointsRepo(db);
      const id = randomUUID();
      assert.equal(await repo.insertPoints(id, "10m", points(1000, 5)), 5);
      assert.equal(await repo.insertPoints(id, "10m", points(1003, 4)), 2, "1003 and 1004 were there");
      assert.equal(await repo.insertPoints(id, "10m", []), 0);
      const stored = await repo.getPoints(id, "10m", 1002);
      assert.deepEqual(
        stored.map((p) => p.ts),
        [1002, 1003, 1004, 1005, 1006],
      );
      assert.deepEqual(stored[0], { ts: 1002, cpuPct: 14.5, memBytes: EIGHT_GIB + 2, diskBytes: 2_000_000 });
      await assert.rejects(repo.insertPoints(id, "1h" as MetricTier, points(1, 1)), (err) =>
        isCheckViolation(err, "sandbox_metric_points_tier_check"),
      );
    });

    test("tiers are separate and deleted selectively; team delete removes its capsules' points", async () => {
      const repo = createMetricPointsRepo(db);
      const team = await createTestTeam(db);
      const { rows } = await db.query<{ id: string }>(
        "INSERT INTO sandboxes (team_id, host_id) VALUES ($1, gen_random_uuid()) RETURNING id",
        [team.id],
      );
      const id = rows[0]?.id ?? "";
      const other = randomUUID();
      for (const tier of ["10m", "2h", "24h"] as const) await repo.insertPoints(id, tier, points(0, 3));
      await repo.insertPoints(other, "24h", points(0, 3));
      assert.equal(await repo.deleteTiers(id, ["10m", "2h"]), 6);
      assert.equal((await repo.getPoints(id, "24h", 0)).length, 3);
      assert.equal(await repo.deleteByTeam(team.id), 3);
      assert.equal((await repo.getPoints(other, "24h", 0)).length, 3, "another capsule's points stay");
    });
  });
}
