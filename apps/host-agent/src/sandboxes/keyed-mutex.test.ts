import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyedMutex } from "./keyed-mutex.js";

const tick = () => new Promise((r) => setImmediate(r));

test("KeyedMutex: same key runs one at a time in order, other keys in parallel, and a failure does not block", async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const job =
    (name: string, fail = false) =>
    async () => {
      log.push(`${name}>`);
      await tick();
      log.push(`<${name}`);
      if (fail) throw new Error(name);
      return name;
    };
  const results = await Promise.allSettled([m.run("a", job("a1", true)), m.run("a", job("a2")), m.run("b", job("b1"))]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "fulfilled", "fulfilled"],
  );
  assert.ok(log.indexOf("<a1") < log.indexOf("a2>"), "a2 waited for a1");
  assert.ok(log.indexOf("b1>") < log.indexOf("<a1"), "b ran alongside a");
  assert.equal(m.size, 0, "no keys kept once idle");
});
