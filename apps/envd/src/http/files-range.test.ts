import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRange } from "./files-range.js";

test("parseRange: single ranges, suffixes, open ends", () => {
  assert.deepEqual(parseRange("bytes=0-99", 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=500-", 1000), { start: 500, end: 999 });
  assert.deepEqual(parseRange("bytes=-100", 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange("bytes=-5000", 1000), { start: 0, end: 999 });
  assert.deepEqual(parseRange("bytes=990-5000", 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange(" Bytes = 1 - 2 ", 10), { start: 1, end: 2 });
});

test("parseRange: unsatisfiable ranges", () => {
  assert.equal(parseRange("bytes=1000-", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=-1", 0), "unsatisfiable");
});

test("parseRange: ignored headers mean the whole file", () => {
  assert.equal(parseRange(undefined, 10), undefined);
  assert.equal(parseRange("items=0-1", 10), undefined);
  assert.equal(parseRange("bytes=0-1,3-4", 10), undefined);
  assert.equal(parseRange("bytes=5-1", 10), undefined);
  assert.equal(parseRange("bytes=-", 10), undefined);
  assert.equal(parseRange("bytes=99999999999999999999-", 10), undefined);
  assert.equal(parseRange("garbage", 10), undefined);
});
