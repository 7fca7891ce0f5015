import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SandboxUsage } from "../runtime/runtime.js";
import { ManualClock } from "./clock.js";
import { MetricsStore } from "./metrics-store.js";
import { cpuPercent, Sampler } from "./sampler.js";

const T0 = 1_700_000_040_000;

/** A capsule whose CPU counter grows by `microsPerRead` per read. */
function fakeUsage(microsPerRead: number): { read: () => Promise<SandboxUsage>; reads: () => number } {
  let n = 0;
  return {
    read: async () => {
      n++;
      return { cpuUsageMicros: n * microsPerRead, memoryBytes: 64 << 20, diskBytes: 1 << 20 };
    },
    reads: () => n,
  };
}

describe("Sampler", () => {
  it("samples every 500 ms; CPU% is Δcpu over wall time and vCPUs", async () => {
    const clock = new ManualClock(T0);
    const store = new MetricsStore();
    const usage = fakeUsage(500_000); // 0.5 s CPU per 0.5 s wall on 2 vCPUs = 50 %
    const s = new Sampler({ read: usage.read, store, vcpus: 2, clock });
    s.start();
    await clock.advance(500);
    assert.deepEqual(store.all()["10m"], [], "first read only sets the CPU baseline");
    await clock.advance(2000);
    assert.equal(usage.reads(), 5);
    const points = store.query("5m", clock.now());
    assert.deepEqual(
      points.map((p) => [p.timestampMs - T0, p.cpuPct, p.memBytes]),
      [
        [1000, 50, 64 << 20],
        [2000, 50, 64 << 20],
      ],
    );
    await s.stop();
  });

  it("stop clears its timer at once and no read happens afterwards", async () => {
    const clock = new ManualClock(T0);
    const usage = fakeUsage(1);
    const s = new Sampler({ read: usage.read, store: new MetricsStore(), vcpus: 1, clock });
    s.start();
    s.start(); // idempotent: still one timer
    assert.equal(clock.pending, 1);
    await clock.advance(1500);
    await s.stop();
    assert.equal(clock.pending, 0);
    const before = usage.reads();
    await clock.advance(60_000);
    assert.equal(usage.reads(), before);
    assert.equal(s.running, false);
  });

  it("a read in flight during stop neither stores nor reschedules", async () => {
    const clock = new ManualClock(T0);
    const store = new MetricsStore();
    let release: (u: SandboxUsage) => void = () => {};
    let calls = 0;
    const s = new Sampler({
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
      clock,
    });
    s.start();
    await clock.advance(1000); // baseline, then the second read hangs
    const stopped = s.stop();
    release({ cpuUsageMicros: 1000, memoryBytes: 1, diskBytes: 1 });
    await stopped;
    await clock.advance(10_000);
    assert.equal(calls, 2);
    assert.equal(clock.pending, 0);
    assert.deepEqual(store.all()["10m"], []);
  });

  it("skips failed reads and keeps sampling", async () => {
    const clock = new ManualClock(T0);
    const errors: unknown[] = [];
    let n = 0;
    const s = new Sampler({
      read: async () => {
        n++;
        if (n === 2) throw new Error("VMM busy");
        return { cpuUsageMicros: n * 1000, memoryBytes: 1, diskBytes: 1 };
      },
      store: new MetricsStore(),
      vcpus: 1,
      clock,
      onError: (e) => errors.push(e),
    });
    s.start();
    await clock.advance(2000);
    assert.equal(n, 4);
    assert.equal(errors.length, 1);
    await s.stop();
  });

  it("flush stops the sampler and returns all three tiers", async () => {
    const clock = new ManualClock(T0);
    const s = new Sampler({ read: fakeUsage(0).read, store: new MetricsStore(), vcpus: 1, clock });
    s.start();
    await clock.advance(3000);
    const all = await s.flush();
    assert.deepEqual(Object.keys(all), ["10m", "2h", "24h"]);
    assert.equal(all["10m"].length, 3);
    assert.equal(all["2h"].length, 1);
    assert.equal(s.running, false);
    assert.equal(clock.pending, 0);
  });

  it("start/stop 100 times with real timers leaves no active handle behind", async () => {
    const count = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const usage = fakeUsage(100);
    const before = count();
    for (let i = 0; i < 100; i++) {
      const s = new Sampler({ read: usage.read, store: new MetricsStore(), vcpus: 1, intervalMs: 1 });
      s.start();
      // Let some rounds actually tick (timer fired, read in flight, rescheduled).
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      await s.stop();
    }
    assert.ok(usage.reads() > 0, "the samplers did sample");
    assert.equal(count(), before, `Timeout handles: ${before} before, ${count()} after`);
  });

  it("cpuPercent clamps to 0..100 and tolerates no elapsed time", () => {
    assert.equal(cpuPercent({ atMs: 0, cpuMicros: 0 }, { atMs: 1000, cpuMicros: 250_000 }, 1), 25);
    assert.equal(cpuPercent({ atMs: 0, cpuMicros: 0 }, { atMs: 1000, cpuMicros: 5_000_000 }, 2), 100);
    assert.equal(cpuPercent({ atMs: 0, cpuMicros: 10 }, { atMs: 1000, cpuMicros: 0 }, 1), 0, "counter reset");
    assert.equal(cpuPercent({ atMs: 5, cpuMicros: 0 }, { atMs: 5, cpuMicros: 9 }, 1), 0);
  });
});
