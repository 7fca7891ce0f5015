import assert from "node:assert/strict";
import { test } from "node:test";
import { addMemory, parseMeminfo, parseSmapsRollup, sumMemory, unitsThatFit } from "./memory.js";

const ROLLUP = `55d0c0a00000-7ffd2a1f3000 ---p 00000000 00:00 0                          [rollup]
Rss:               43520 kB
Pss:                8192 kB
Pss_Dirty:          6000 kB
Pss_Anon:           6656 kB
Pss_File:           1536 kB
Pss_Shmem:             0 kB
Shared_Clean:      37888 kB
`;

test("parseSmapsRollup reads PSS, RSS and the anon/file split in bytes", () => {
  assert.deepEqual(parseSmapsRollup(ROLLUP), {
    pss: 8192 * 1024,
    rss: 43520 * 1024,
    pssAnon: 6656 * 1024,
    pssFile: 1536 * 1024,
  });
});

test("parseSmapsRollup: Pss is not confused with Pss_Anon, and missing fields read as 0", () => {
  const old = "Rss: 100 kB\nPss_Anon: 7 kB\nPss: 40 kB\n";
  assert.deepEqual(parseSmapsRollup(old), { pss: 40 * 1024, rss: 100 * 1024, pssAnon: 7 * 1024, pssFile: 0 });
  assert.deepEqual(parseSmapsRollup(""), { pss: 0, rss: 0, pssAnon: 0, pssFile: 0 });
});

test("addMemory adds field by field", () => {
  const a = { pss: 1, rss: 2, pssAnon: 3, pssFile: 4 };
  assert.deepEqual(addMemory(a, a), { pss: 2, rss: 4, pssAnon: 6, pssFile: 8 });
});

test("sumMemory reads this process and skips PIDs that do not exist", async () => {
  const self = await sumMemory([process.pid]);
  assert.equal(self.processes, 1);
  assert.ok(self.pss > 0 && self.rss >= self.pss, JSON.stringify(self));
  // PID numbers above pid_max (4194304 at most) can never exist.
  const gone = await sumMemory([process.pid, 4_194_305]);
  assert.equal(gone.processes, 1);
});

test("parseMeminfo converts kB fields to bytes and keeps unitless counts", () => {
  const info = parseMeminfo("MemTotal:       24684220 kB\nMemAvailable:   19922944 kB\nHugePages_Total:       0\n");
  assert.equal(info["MemTotal"], 24684220 * 1024);
  assert.equal(info["MemAvailable"], 19922944 * 1024);
  assert.equal(info["HugePages_Total"], 0);
});

test("unitsThatFit rounds down, never goes negative, and refuses a non-positive cost", () => {
  assert.equal(unitsThatFit(10 * 1024, 3 * 1024), 3);
  assert.equal(unitsThatFit(-5, 3), 0);
  assert.ok(Number.isNaN(unitsThatFit(100, 0)));
  assert.ok(Number.isNaN(unitsThatFit(100, -4)));
  assert.ok(Number.isNaN(unitsThatFit(100, Number.NaN)));
});
