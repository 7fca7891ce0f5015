import assert from "node:assert/strict";
import { test } from "node:test";
import { mapLimit } from "./map-limit.js";

const tick = () => new Promise((r) => setTimeout(r, 1));

test("mapLimit keeps input order and never exceeds the limit", async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (x, i) => {
    running++;
    peak = Math.max(peak, running);
    for (let k = 0; k < x; k++) await tick();
    running--;
    return `${i}:${x}`;
  });
  assert.deepEqual(out, ["0:5", "1:1", "2:4", "3:2", "4:3", "5:0"]);
  assert.equal(peak, 2);
});

test("mapLimit: after a failure nothing new starts, calls in flight finish, then it rejects", async () => {
  const started: number[] = [];
  const finished: number[] = [];
  await assert.rejects(
    mapLimit([0, 1, 2, 3, 4], 2, async (x) => {
      started.push(x);
      await tick();
      if (x === 0) throw new Error("boom");
      await tick();
      finished.push(x);
    }),
    /boom/,
  );
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(finished, [1]);
});

test("mapLimit handles empty input and rejects a limit below 1", async () => {
  assert.deepEqual(await mapLimit([], 3, async () => 1), []);
  await assert.rejects(
    mapLimit([1], 0, async () => 1),
    RangeError,
  );
});
