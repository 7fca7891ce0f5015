import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_SCAN_PACING, ScanPacer } from "./scan-pacer.js";

const pacing = { fastMs: 100, fastWindowMs: 1000, probeMs: 800, maxScanGapMs: 5000 };

describe("ScanPacer", () => {
  test("ticks fast inside the window after activity, then doubles up to probeMs", () => {
    const p = new ScanPacer(pacing);
    p.activity(0);
    assert.equal(p.nextTickDelay(0), 100);
    assert.equal(p.nextTickDelay(999), 100);
    assert.equal(p.isFast(999), true);
    assert.deepEqual(
      [1000, 1200, 1600, 2400, 3200].map((t) => p.nextTickDelay(t)),
      [200, 400, 800, 800, 800],
    );
    assert.equal(p.state(3200).fast, false);
  });

  test("the scan gap doubles with each unchanged scan up to maxScanGapMs", () => {
    const p = new ScanPacer(pacing);
    p.activity(0);
    assert.equal(p.scanDue(0), true, "never scanned");
    p.scanned(0, false);
    assert.equal(p.scanDue(1599), false);
    assert.equal(p.scanDue(1600), true, "gap 800 doubled to 1600");
    const gaps: number[] = [];
    for (let t = 1600; gaps.length < 4; t += 10_000) {
      p.scanned(t, false);
      gaps.push(p.state(t).scanGapMs);
    }
    assert.deepEqual(gaps, [3200, 5000, 5000, 5000]);
  });

  test("activity and a listener change reset both the tick and the scan gap", () => {
    const p = new ScanPacer(pacing);
    p.activity(0);
    for (let t = 0; t < 60_000; t += 1000) {
      p.scanned(t, false);
      p.nextTickDelay(t);
    }
    assert.deepEqual(p.state(60_000), { tickDelayMs: 800, scanGapMs: 5000, fast: false });
    p.activity(60_000);
    assert.deepEqual(p.state(60_000), { tickDelayMs: 100, scanGapMs: 800, fast: true });
    assert.equal(p.nextTickDelay(60_050), 100);

    for (let t = 61_000; t < 120_000; t += 1000) {
      p.scanned(t, false);
      p.nextTickDelay(t);
    }
    p.scanned(120_000, true);
    assert.deepEqual(p.state(120_000), { tickDelayMs: 100, scanGapMs: 800, fast: true });
  });

  test("defaults fill what is not given; bad pacing is refused", () => {
    assert.deepEqual(new ScanPacer({ fastMs: 50 }).pacing, { ...DEFAULT_SCAN_PACING, fastMs: 50 });
    assert.throws(() => new ScanPacer({ fastMs: 0 }), /fastMs must be a positive/);
    assert.throws(() => new ScanPacer({ probeMs: Number.NaN }), /probeMs must be a positive/);
    assert.throws(() => new ScanPacer({ fastMs: 2000, probeMs: 1000 }), /fastMs <= probeMs <= maxScanGapMs/);
    assert.throws(() => new ScanPacer({ maxScanGapMs: 500 }), /fastMs <= probeMs <= maxScanGapMs/);
  });
});
