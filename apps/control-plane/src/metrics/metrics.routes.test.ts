import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { toPublicId } from "../ids/public-id.js";
import { createMetricPointsRepo } from "./metric-points.repo.js";
import { createMetricsRepo } from "./metrics.repo.js";
import { addDays, utcDay } from "./stats.service.js";
import { type MetricsApp, type MetricsTestSession, startMetricsApp } from "./testing/metrics-app.js";

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

interface Metrics {
  sandbox_id: string;
  range: string;
  points: { timestamp_unix: number; cpu_pct: number; mem_bytes: number; disk_bytes: number }[];
}
interface Stats {
  range: string;
  current: { running_count: number; vcpus_reserved: number; memory_mb_reserved: number };
  peaks: { running_count: number; vcpus: number; memory_mb: number };
  series: { labels: string[]; running: number[]; vcpus: number[]; memory_mb: number[] };
}
interface Usage {
  from: string;
  to: string;
  points: { date: string; cpu_minutes: number; ram_mb_minutes: number }[];
}

describe("metrics, stats and usage routes", () => {
  let s: MetricsApp;
  let a: MetricsTestSession;
  let b: MetricsTestSession;

  before(async () => {
    s = await startMetricsApp();
    a = await s.session();
    b = await s.session();
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  async function capsule(teamId: string, status: string, vcpus = 1, memoryMb = 512): Promise<string> {
    const id = randomUUID();
    await s.db.query(
      "INSERT INTO sandboxes (id, team_id, host_id, status, vcpus, memory_mb) VALUES ($1, $2, $3, $4, $5, $6)",
      [id, teamId, randomUUID(), status, vcpus, memoryMb],
    );
    return id;
  }

  test("a paused capsule's metrics come from the stored tier of the range, within the range", async () => {
    const id = await capsule(a.team.id, "paused");
    const points = createMetricPointsRepo(s.db);
    const now = Math.floor(Date.now() / 1000);
    const point = (ago: number, cpu: number) => ({ ts: now - ago, cpuPct: cpu, memBytes: 1000 + ago, diskBytes: 7 });
    await points.insertPoints(id, "10m", [point(900, 1), point(400, 2), point(100, 3)]);
    await points.insertPoints(id, "2h", [point(3000, 4), point(5000, 5)]);
    await points.insertPoints(id, "24h", [point(20_000, 6), point(80_000, 7)]);
    const publicId = toPublicId("capsule", id);
    const cpus = async (range?: string) => {
      const query = range === undefined ? "" : `?range=${range}`;
      const m = await body<Metrics>(await s.get(`/v1/capsules/${publicId}/metrics${query}`, a), 200);
      assert.equal(m.sandbox_id, publicId);
      assert.equal(m.range, range ?? "10m");
      return m.points.map((p) => p.cpu_pct);
    };
    assert.deepEqual(await cpus("5m"), [3]);
    assert.deepEqual(await cpus(), [2, 3], "default range 10m");
    assert.deepEqual(await cpus("1h"), [4]);
    assert.deepEqual(await cpus("2h"), [5, 4]);
    assert.deepEqual(await cpus("6h"), [6]);
    assert.deepEqual(await cpus("24h"), [7, 6]);
    const m = await body<Metrics>(await s.get(`/v1/capsules/${publicId}/metrics?range=5m`, { token: a.token }), 200);
    assert.deepEqual(m.points, [{ timestamp_unix: now - 100, cpu_pct: 3, mem_bytes: 1100, disk_bytes: 7 }]);
  });

  test("metrics: other statuses, other teams and bad ranges are refused", async () => {
    const stopped = toPublicId("capsule", await capsule(a.team.id, "stopped"));
    const paused = toPublicId("capsule", await capsule(a.team.id, "paused"));
    assert.equal((await s.get(`/v1/capsules/${stopped}/metrics`, a)).status, 404);
    assert.equal((await s.get(`/v1/capsules/${paused}/metrics`, b)).status, 404, "another team's capsule");
    assert.equal((await s.get(`/v1/capsules/${paused}/metrics?range=3h`, a)).status, 400);
    assert.equal((await s.get(`/v1/capsules/${paused}/metrics`, {})).status, 401);
    assert.equal((await s.get("/v1/capsules/cl-nope/metrics", a)).status, 400);
  });

  test("stats: live load (paused capsules at half memory), 30-day peaks, MAX-bucketed series", async () => {
    const team = (await s.session()).team;
    const session = { apiKey: (await s.session({ team, role: "member" })).apiKey };
    await capsule(team.id, "running", 2, 1024);
    await capsule(team.id, "paused", 1, 513);
    await capsule(team.id, "stopped", 8, 8192);
    const sample = (ago: string, r: number, v: number, m: number) =>
      s.db.query(
        `INSERT INTO sandbox_metrics_snapshots (team_id, sampled_at, running_count, vcpus_reserved, memory_mb_reserved)
         VALUES ($1, now() - $2::interval, $3, $4, $5)`,
        [team.id, ago, r, v, m],
      );
    await sample("10 days", 9, 18, 9000);
    await sample("40 days", 50, 50, 50_000);
    await sample("30 seconds", 1, 4, 100);
    await sample("31 seconds", 3, 1, 200);
    const st = await body<Stats>(await s.get("/v1/capsules/stats?range=5m", session), 200);
    assert.equal(st.range, "5m");
    assert.deepEqual(st.current, { running_count: 1, vcpus_reserved: 2, memory_mb_reserved: 1024 + 257 });
    assert.deepEqual(st.peaks, { running_count: 9, vcpus: 18, memory_mb: 9000 }, "40 days ago is outside");
    assert.ok(st.series.labels.length >= 1 && st.series.labels.length <= 2);
    assert.equal(Math.max(...st.series.running), 3);
    assert.equal(Math.max(...st.series.vcpus), 4);
    assert.equal(st.series.labels.length, st.series.memory_mb.length);
    const day = await body<Stats>(await s.get("/v1/capsules/stats", session), 200);
    assert.equal(day.range, "1h", "default range");
    const month = await body<Stats>(await s.get("/v1/capsules/stats?range=30d", session), 200);
    assert.ok(month.series.running.includes(9));
    assert.ok(!month.series.running.includes(50));
    assert.equal((await s.get("/v1/capsules/stats?range=2d", session)).status, 400);

    await createMetricsRepo(s.db).sampleTeams();
    const after = await body<Stats>(await s.get("/v1/capsules/stats?range=5m", session), 200);
    assert.ok(after.series.memory_mb.includes(1024 + 257), "a fresh sample shows in the series");
  });

  test("usage: default 30 days up to today, stored past days, today live, zero-filled; bad ranges refused", async (t) => {
    const team = (await s.session()).team;
    const session = { apiKey: (await s.session({ team, role: "member" })).apiKey };
    // "Today" is pinned (noon UTC) and today's samples are stamped inside it: a run across
    // midnight must not split the test between two days.
    const today = utcDay(Date.now());
    s.setNow(Date.parse(`${today}T12:00:00Z`));
    t.after(() => s.setNow(undefined));
    await s.db.query("INSERT INTO daily_usage (team_id, day, cpu_minutes, ram_mb_minutes) VALUES ($1, $2, 12.5, 300)", [
      team.id,
      addDays(today, -3),
    ]);
    // Two 10 s samples today: (2 + 4) vCPU × 10 s / 60 = 1 CPU minute.
    await s.db.query(
      `INSERT INTO sandbox_metrics_snapshots (team_id, sampled_at, running_count, vcpus_reserved, memory_mb_reserved)
       VALUES ($1, $2, 1, 2, 600), ($1, $2, 1, 4, 600)`,
      [team.id, new Date(`${today}T11:00:00Z`)],
    );
    const usage = await body<Usage>(await s.get("/v1/capsules/usage", session), 200);
    assert.deepEqual([usage.from, usage.to], [addDays(today, -29), today]);
    assert.equal(usage.points.length, 30);
    assert.deepEqual(usage.points.at(-4), { date: addDays(today, -3), cpu_minutes: 12.5, ram_mb_minutes: 300 });
    assert.deepEqual(usage.points.at(-1), { date: today, cpu_minutes: 1, ram_mb_minutes: 200 });
    assert.deepEqual(usage.points.at(-2), { date: addDays(today, -1), cpu_minutes: 0, ram_mb_minutes: 0 });

    const from = addDays(today, -91);
    const longest = await body<Usage>(await s.get(`/v1/capsules/usage?from=${from}&to=${today}`, session), 200);
    assert.equal(longest.points.length, 92);
    const past = await body<Usage>(
      await s.get(`/v1/capsules/usage?from=${addDays(today, -3)}&to=${addDays(today, -3)}`, session),
      200,
    );
    assert.deepEqual(
      past.points.map((p) => p.cpu_minutes),
      [12.5],
    );
    const other = await body<Usage>(await s.get("/v1/capsules/usage", b), 200);
    assert.ok(
      other.points.every((p) => p.cpu_minutes === 0),
      "another team sees none of it",
    );

    const bad = async (query: string) => (await s.get(`/v1/capsules/usage?${query}`, session)).status;
    assert.equal(await bad(`from=${addDays(today, -92)}&to=${today}`), 400, "93 days");
    assert.equal(await bad(`from=${today}&to=${addDays(today, -1)}`), 400, "from after to");
    assert.equal(await bad("from=2026-13-01"), 400);
  });
});
