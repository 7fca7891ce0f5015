import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_TIERS, isMetricsRange, type MetricPoint, MetricsStore } from "./metrics-store.js";

const T0 = 1_700_000_040_000; // a multiple of 2 min, so buckets start here
const sample = (atMs: number, cpuPct: number, memBytes = 100, diskBytes = 10): MetricPoint => ({
  timestampMs: atMs,
  cpuPct,
  memBytes,
  diskBytes,
});

describe("MetricsStore", () => {
  it("documents bounded tiers: 600 + 720 + 720 points", () => {
    assert.deepEqual(
      DEFAULT_TIERS.map((t) => [t.name, t.spanMs / t.resolutionMs]),
      [
        ["10m", 600],
        ["2h", 720],
        ["24h", 720],
      ],
    );
    assert.equal(new MetricsStore().maxPoints, 2043);
  });

  it("averages samples into each tier's buckets (two 500 ms samples make one 1 s point)", () => {
    const s = new MetricsStore();
    s.add(sample(T0, 10, 100));
    s.add(sample(T0 + 500, 30, 300));
    s.add(sample(T0 + 1000, 50, 500));
    const tenMin = s.all()["10m"];
    assert.deepEqual(tenMin, [sample(T0, 20, 200), sample(T0 + 1000, 50, 500)]);
    // All three samples are in the same 10 s and 2 min buckets.
    assert.deepEqual(s.all()["2h"], [sample(T0, 30, 300)]);
    assert.deepEqual(s.all()["24h"], [sample(T0, 30, 300)]);
  });

  it("keeps each tier bounded after a day and a half of 500 ms samples", () => {
    const s = new MetricsStore();
    const end = T0 + 36 * 3_600_000;
    for (let t = T0; t < end; t += 500) s.add(sample(t, 50));
    const all = s.all();
    assert.equal(all["10m"].length, 601); // 600 complete + the one being filled
    assert.equal(all["2h"].length, 721);
    assert.equal(all["24h"].length, 721);
    assert.ok((all["24h"][0]?.timestampMs ?? 0) >= end - 24 * 3_600_000 - 120_000);
    for (const points of Object.values(all)) {
      for (let i = 1; i < points.length; i++)
        assert.ok((points[i]?.timestampMs ?? 0) > (points[i - 1]?.timestampMs ?? 0));
    }
  });

  it("answers each range from the right tier, filtered to the window", () => {
    const s = new MetricsStore();
    const now = T0 + 3 * 3_600_000;
    for (let t = T0; t <= now; t += 1000) s.add(sample(t, 1));
    const at = (r: Parameters<MetricsStore["query"]>[0]) => s.query(r, now);
    assert.equal(at("5m").length, 301); // 1 s points from now-5m to now
    assert.equal(at("10m").length, 601);
    assert.equal(at("1h").length, 361); // 10 s points
    assert.equal(at("2h").length, 721);
    // 24h tier (2 min points), but only 3 h of history exist.
    assert.equal(at("6h").length, 91);
    assert.deepEqual(at("12h"), at("24h"));
    for (const p of at("1h")) assert.ok(p.timestampMs >= now - 3_600_000);
    assert.ok(isMetricsRange("12h"));
    assert.ok(!isMetricsRange("3h"));
  });

  it("drops a sample from the past rather than reordering, and clear forgets everything", () => {
    const s = new MetricsStore();
    s.add(sample(T0 + 5000, 1));
    s.add(sample(T0, 99));
    assert.deepEqual(s.all()["10m"], [sample(T0 + 5000, 1)]);
    s.clear();
    assert.deepEqual(s.all(), { "10m": [], "2h": [], "24h": [] });
  });
});
