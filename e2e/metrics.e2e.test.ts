import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parsePublicId } from "../apps/control-plane/src/ids/public-id.js";
import { json, type Stack, stackSkipReason, startStack } from "./stack.js";

interface Metrics {
  sandbox_id: string;
  range: string;
  points: { timestamp_unix: number; cpu_pct: number; mem_bytes: number; disk_bytes: number }[];
}

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

describe("capsule metrics: live from the agent, stored on pause, trimmed on destroy", { skip: stackSkipReason }, () => {
  let s: Stack;
  before(async () => {
    s = await startStack();
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  test("create → metrics from the agent → pause → same points from the database → destroy", async () => {
    const { id } = await body<{ id: string }>(await s.api("/v1/capsules", json({})), 201);
    const parsed = parsePublicId("capsule", id);
    assert.ok(parsed.ok);

    // The agent samples every 500 ms: wait (bounded) for its first points.
    let live: Metrics | undefined;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(250)) {
      live = await body<Metrics>(await s.api(`/v1/capsules/${id}/metrics?range=5m`), 200);
      if (live.points.length >= 2) break;
    }
    assert.ok(live && live.points.length >= 2, "the running capsule has samples");
    assert.equal(live.sandbox_id, id);
    assert.ok(live.points.every((p) => p.mem_bytes > 0 && p.cpu_pct >= 0 && p.cpu_pct <= 100));

    assert.equal(
      (await body<{ status: string }>(await s.api(`/v1/capsules/${id}/pause`, json({})), 200)).status,
      "paused",
    );
    const stored = await s.db.query<{ tier: string; n: number }>(
      "SELECT tier, count(*)::int AS n FROM sandbox_metric_points WHERE sandbox_id = $1 GROUP BY tier",
      [parsed.uuid],
    );
    const fine = stored.rows.find((r) => r.tier === "10m")?.n ?? 0;
    assert.ok(fine >= live.points.length, "pause flushed the 10m ring into the database");

    const paused = await body<Metrics>(await s.api(`/v1/capsules/${id}/metrics?range=10m`), 200);
    const pausedTimes = new Set(paused.points.map((p) => p.timestamp_unix));
    assert.ok(
      live.points.every((p) => pausedTimes.has(p.timestamp_unix)),
      "every point seen live is readable after the pause",
    );

    assert.equal((await s.api(`/v1/capsules/${id}`, { method: "DELETE" })).status, 204);
    const left = await s.db.query<{ tier: string }>(
      "SELECT DISTINCT tier FROM sandbox_metric_points WHERE sandbox_id = $1",
      [parsed.uuid],
    );
    assert.ok(
      left.rows.every((r) => r.tier === "24h"),
      "destroying a paused capsule drops its 10m and 2h tiers",
    );
    assert.equal((await s.api(`/v1/capsules/${id}/metrics`)).status, 404, "a stopped capsule has no metrics");
  });

  test("destroying a running capsule keeps only the 24h tier (none of its fine samples)", async () => {
    const { id } = await body<{ id: string }>(await s.api("/v1/capsules", json({})), 201);
    const parsed = parsePublicId("capsule", id);
    assert.ok(parsed.ok);
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(250)) {
      const live = await body<Metrics>(await s.api(`/v1/capsules/${id}/metrics?range=5m`), 200);
      if (live.points.length >= 1) break;
    }
    assert.equal((await s.api(`/v1/capsules/${id}`, { method: "DELETE" })).status, 204);
    const tiers = await s.db.query<{ tier: string }>(
      "SELECT DISTINCT tier FROM sandbox_metric_points WHERE sandbox_id = $1",
      [parsed.uuid],
    );
    assert.deepEqual(
      tiers.rows.filter((r) => r.tier !== "24h"),
      [],
    );
    assert.equal((await s.api(`/v1/capsules/${id}`)).status, 200);
    assert.equal((await s.api(`/v1/capsules/${id}/metrics`)).status, 404);
  });
});
