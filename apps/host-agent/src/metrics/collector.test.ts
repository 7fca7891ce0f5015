import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SandboxUsage } from "../runtime/runtime.js";
import { ManualClock } from "./clock.js";
import { cpuPercent, MetricsCollector } from "./collector.js";
import { MetricsStore } from "./metrics-store.js";

const T0 = 1_700_000_040_000;

/** A capsule whose CPU counter grows by `microsPerRead` per read. */
function fakeUsage(
  microsPerRead: number,
  memoryBytes = 64 << 20,
): { read: () => Promise<SandboxUsage>; reads: () => number } {
  let n = 0;
  return {
    read: async () => {
      n++;
      return { cpuUsageMicros: n * microsPerRead, memoryBytes, diskBytes: 1 << 20 };
    },
    reads: () => n,
  };
}

describe("MetricsCollector", () => {
  it("samples every 500 ms; CPU% is Δcpu over wall time and vCPUs", async () => {
    const clock = new ManualClock(T0);
    const c = new MetricsCollector({ clock });
    const store = new MetricsStore();
    const usage = fakeUsage(500_000); // 0.5 s CPU per 0.5 s wall on 2 vCPUs = 50 %
    c.track("a", { read: usage.read, store, vcpus: 2 });
    await clock.advance(500);
    assert.deepEqual(store.all()["10m"], [], "first read only sets the CPU baseline");
    await clock.advance(2000);
    assert.equal(usage.reads(), 5);
    assert.deepEqual(
      store.query("5m", clock.now()).map((p) => [p.timestampMs - T0, p.cpuPct, p.memBytes]),
      [
        [1000, 50, 64 << 20],
        [2000, 50, 64 << 20],
      ],
    );
    await c[Symbol.asyncDispose]();
  });

  it("one timer for every capsule; each keeps its own series; none once the last one is untracked", async () => {
    const clock = new ManualClock(T0);
    const c = new MetricsCollector({ clock });
    const capsules = [1, 2, 3].map((i) => ({
      id: `c${i}`,
      usage: fakeUsage(i * 100_000, i << 20),
      store: new MetricsStore(),
    }));
    for (const k of capsules) c.track(k.id, { read: k.usage.read, store: k.store, vcpus: 1 });
    c.track("c1", {
      read: async () => assert.fail("a second track must not replace the first"),
      store: new MetricsStore(),
      vcpus: 1,
    });
    assert.equal(clock.pending, 1, "three capsules, one timer");
    assert.equal(c.size, 3);
    await clock.advance(1500);
    for (const [i, k] of capsules.entries()) {
      assert.equal(k.usage.reads(), 3);
      const pts = k.store.query("5m", clock.now());
      assert.deepEqual(
        pts.map((p) => [Math.round(p.cpuPct), p.memBytes]),
        [[(i + 1) * 20, (i + 1) << 20]],
        `${k.id}: 0.1×i s CPU per 0.5 s`,
      );
    }
    await c.untrack("c2");
    assert.equal(clock.pending, 1);
    await clock.advance(500);
    assert.deepEqual(
      capsules.map((k) => k.usage.reads()),
      [4, 3, 4],
      "an untracked capsule is no longer read",
    );
    await c.untrack("c1");
    await c.untrack("c3");
    await c.untrack("never-tracked");
    assert.equal(clock.pending, 0, "no timer without capsules");
    await clock.advance(60_000);
    assert.deepEqual(
      capsules.map((k) => k.usage.reads()),
      [4, 3, 4],
    );
  });

  it("a read in flight during untrack neither stores nor delays the others", async () => {
    const clock = new ManualClock(T0);
    const c = new MetricsCollector({ clock });
    const store = new MetricsStore();
    let release: (u: SandboxUsage) => void = () => {};
    let calls = 0;
    c.track("slow", {
      read: () => {
        calls++;
        return calls === 1
          ? Promise.resolve({ cpuUsageMicros: 0, memoryBytes: 1, diskBytes: 1 })
          : new Promise((r) => {
              release = r;
            });
      },
      store,
      vcpus: 1,
    });
    await clock.advance(1000); // baseline, then the second read hangs
    let untracked = false;
    const stopped = c.untrack("slow").then(() => {
      untracked = true;
    });
    await clock.advance(0);
    assert.equal(untracked, false, "untrack waits for the read in flight");
    release({ cpuUsageMicros: 1000, memoryBytes: 1, diskBytes: 1 });
    await stopped;
    await clock.advance(10_000);
    assert.equal(calls, 2);
    assert.equal(clock.pending, 0);
    assert.deepEqual(store.all()["10m"], []);
  });

  it("re-tracking after untrack starts a new CPU baseline (paused time is not CPU use)", async () => {
    const clock = new ManualClock(T0);
    const c = new MetricsCollector({ clock });
    const store = new MetricsStore();
    let cpu = 0;
    const read = async () => ({ cpuUsageMicros: cpu, memoryBytes: 1, diskBytes: 1 });
    c.track("a", { read, store, vcpus: 1 });
    await clock.advance(500);
    await c.untrack("a");
    cpu += 60_000_000; // a minute of CPU charged while not tracked
    await clock.advance(60_000);
    c.track("a", { read, store, vcpus: 1 });
    await clock.advance(1000);
    assert.deepEqual(
      store.all()["10m"].map((p) => p.cpuPct),
      [0],
    );
    await c[Symbol.asyncDispose]();
    assert.equal(clock.pending, 0);
  });

  it("skips failed reads, reports them with the capsule id, and keeps sampling", async () => {
    const clock = new ManualClock(T0);
    const errors: string[] = [];
    let n = 0;
    const c = new MetricsCollector({ clock, onError: (id, e) => errors.push(`${id}: ${String(e)}`) });
    c.track("vm", {
      read: async () => {
        n++;
        if (n === 2) throw new Error("VMM busy");
        return { cpuUsageMicros: n * 1000, memoryBytes: 1, diskBytes: 1 };
      },
      store: new MetricsStore(),
      vcpus: 1,
    });
    await clock.advance(2000);
    assert.equal(n, 4);
    assert.deepEqual(errors, ["vm: Error: VMM busy"]);
    await c[Symbol.asyncDispose]();
    assert.throws(
      () => c.track("vm", { read: async () => assert.fail(), store: new MetricsStore(), vcpus: 1 }),
      /closed/,
    );
  });

  it("track/untrack 100 times with real timers leaves no active handle behind", async () => {
    const count = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const usage = fakeUsage(100);
    const before = count();
    const c = new MetricsCollector({ intervalMs: 1 });
    for (let i = 0; i < 100; i++) {
      c.track("a", { read: usage.read, store: new MetricsStore(), vcpus: 1 });
      c.track("b", { read: usage.read, store: new MetricsStore(), vcpus: 1 });
      // Let some rounds actually tick (timer fired, reads in flight, rearmed).
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      await c.untrack("a");
      await c.untrack("b");
    }
    assert.ok(usage.reads() > 0, "the collector did sample");
    assert.equal(count(), before, `Timeout handles: ${before} before, ${count()} after`);
  });

  it("rejects a capsule without vCPUs and a non-positive period", () => {
    assert.throws(() => new MetricsCollector({ intervalMs: 0 }), RangeError);
    const c = new MetricsCollector();
    assert.throws(() => c.track("a", { read: fakeUsage(1).read, store: new MetricsStore(), vcpus: 0 }), RangeError);
    assert.equal(c.size, 0);
  });

  it("cpuPercent clamps to 0..100 and tolerates no elapsed time", () => {
    assert.equal(cpuPercent({ atMs: 0, cpuMicros: 0 }, { atMs: 1000, cpuMicros: 250_000 }, 1), 25);
    assert.equal(cpuPercent({ atMs: 0, cpuMicros: 0 }, { atMs: 1000, cpuMicros: 5_000_000 }, 2), 100);
    assert.equal(cpuPercent({ atMs: 0, cpuMicros: 10 }, { atMs: 1000, cpuMicros: 0 }, 1), 0, "counter reset");
    assert.equal(cpuPercent({ atMs: 5, cpuMicros: 0 }, { atMs: 5, cpuMicros: 9 }, 1), 0);
  });
});
