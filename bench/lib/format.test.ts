import assert from "node:assert/strict";
import { test } from "node:test";
import { atLeast, below, fmtBytes, fmtRatio, fmtSummary } from "./format.js";
import { summarize } from "./stats.js";

test("fmtSummary prints median, p99 and the sample count; empty input prints a dash", () => {
  assert.equal(fmtSummary(summarize([3, 1, 2]), "ms"), "med 2.0 · p99 3.0 ms (n=3)");
  assert.equal(fmtSummary(summarize([]), "ms"), "—");
});

test("fmtRatio divides by the floor and is empty without a usable floor", () => {
  assert.equal(fmtRatio(3, 2), "1.50x");
  assert.equal(fmtRatio(1, 3, 1), "0.3x");
  assert.equal(fmtRatio(1, 0), "");
  assert.equal(fmtRatio(1, Number.NaN), "");
  assert.equal(fmtRatio(Number.NaN, 2), "");
});

test("below and atLeast: NaN always misses", () => {
  assert.equal(below(4.9, 5), "ok");
  assert.equal(below(5, 5), "MISS");
  assert.equal(below(Number.NaN, 5), "MISS");
  assert.equal(atLeast(500, 500), "ok");
  assert.equal(atLeast(499, 500), "MISS");
  assert.equal(atLeast(Number.NaN, 500), "MISS");
});

test("fmtBytes uses binary units with about three significant digits", () => {
  assert.equal(fmtBytes(512), "512 B");
  assert.equal(fmtBytes(8.12 * 1048576), "8.12 MiB");
  assert.equal(fmtBytes(17.25 * 1048576), "17.3 MiB");
  assert.equal(fmtBytes(140 * 1048576), "140 MiB");
  assert.equal(fmtBytes(1.5 * 1073741824), "1.50 GiB");
  assert.equal(fmtBytes(-103 * 1048576), "-103 MiB");
});
