import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RingBuffer } from "./ring-buffer.js";

describe("RingBuffer", () => {
  it("keeps insertion order until full, then drops the oldest", () => {
    const r = new RingBuffer<number>(3);
    assert.deepEqual(r.toArray(), []);
    assert.equal(r.last(), undefined);
    r.push(1);
    r.push(2);
    assert.deepEqual(r.toArray(), [1, 2]);
    r.push(3);
    r.push(4);
    r.push(5);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.equal(r.size, 3);
    assert.equal(r.last(), 5);
  });

  it("wraps correctly many times over", () => {
    const r = new RingBuffer<number>(7);
    for (let i = 0; i < 1000; i++) r.push(i);
    assert.deepEqual(r.toArray(), [993, 994, 995, 996, 997, 998, 999]);
    assert.deepEqual(
      r.filter((x) => x % 2 === 0),
      [994, 996, 998],
    );
  });

  it("capacity 1 holds the newest item only", () => {
    const r = new RingBuffer<string>(1);
    r.push("a");
    r.push("b");
    assert.deepEqual(r.toArray(), ["b"]);
  });

  it("clear empties it and it can be reused", () => {
    const r = new RingBuffer<number>(2);
    r.push(1);
    r.push(2);
    r.push(3);
    r.clear();
    assert.equal(r.size, 0);
    r.push(9);
    assert.deepEqual(r.toArray(), [9]);
  });

  it("rejects a non-positive or fractional capacity", () => {
    assert.throws(() => new RingBuffer(0), RangeError);
    assert.throws(() => new RingBuffer(1.5), RangeError);
  });
});
