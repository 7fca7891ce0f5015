import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type FlowControl, OutputFanout } from "./output-fanout.js";

/** A source that records its state, as a pipe or PTY would be paused and resumed. */
class RecordingSource implements FlowControl {
  paused = false;
  pauses = 0;
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
}

const overloadError = () => new Error("overloaded");

/** Node 20 lacks Array.fromAsync. */
async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe("OutputFanout", { timeout: 5000 }, () => {
  test("every listener gets every event, then the final one", async () => {
    const fanout = new OutputFanout<number>(new RecordingSource(), { overloadError });
    const a = fanout.subscribe();
    const b = fanout.subscribe();
    fanout.publish(1);
    fanout.publish(2);
    fanout.finish(99);
    assert.deepEqual(await all(a), [1, 2, 99]);
    assert.deepEqual(await all(b), [1, 2, 99]);
  });

  test("a listener that arrives after the end still gets the end", async () => {
    const fanout = new OutputFanout<number>(new RecordingSource(), { overloadError });
    fanout.publish(1);
    fanout.finish(99);
    assert.deepEqual(await all(fanout.subscribe()), [99]);
  });

  test("without listeners output is discarded and the source keeps flowing", () => {
    const source = new RecordingSource();
    const fanout = new OutputFanout<number>(source, { capacity: 2, overloadError });
    for (let i = 0; i < 100; i++) fanout.publish(i);
    assert.equal(source.pauses, 0);
  });

  test("a full listener pauses the source until it drains", async () => {
    const source = new RecordingSource();
    const fanout = new OutputFanout<number>(source, { capacity: 3, overloadError });
    const sub = fanout.subscribe();
    fanout.publish(1);
    fanout.publish(2);
    assert.equal(source.paused, false);
    fanout.publish(3);
    assert.equal(source.paused, true, "queue reached capacity");
    const it = sub[Symbol.asyncIterator]();
    assert.deepEqual(await take(it, 1), [1]);
    await Promise.resolve();
    assert.equal(source.paused, false, "room again");
    sub.close();
  });

  test("closing the only full listener resumes the source", async () => {
    const source = new RecordingSource();
    const fanout = new OutputFanout<number>(source, { capacity: 1, overloadError });
    const sub = fanout.subscribe();
    fanout.publish(1);
    assert.equal(source.paused, true);
    sub.close();
    await Promise.resolve();
    assert.equal(source.paused, false);
  });

  test("a lone slow listener is never dropped: it only slows the source", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const source = new RecordingSource();
    const fanout = new OutputFanout<number>(source, { capacity: 1, stallLimitMs: 100, overloadError });
    const sub = fanout.subscribe();
    fanout.publish(1);
    t.mock.timers.tick(1000);
    assert.equal(source.paused, true);
    assert.equal(fanout.listenerCount, 1);
    fanout.finish(99);
    assert.deepEqual(await all(sub), [1, 99]);
  });

  test("a listener stuck full while another waits is dropped with the overload error", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    const source = new RecordingSource();
    const fanout = new OutputFanout<number>(source, { capacity: 2, stallLimitMs: 100, overloadError });
    const fast = fanout.subscribe();
    const slow = fanout.subscribe();
    fanout.publish(1);
    fanout.publish(2);
    assert.equal(source.paused, true);
    const fastIt = fast[Symbol.asyncIterator]();
    assert.deepEqual(await take(fastIt, 2), [1, 2]);
    await Promise.resolve();
    assert.equal(source.paused, true, "still held back by the slow listener");
    t.mock.timers.tick(99);
    assert.equal(fanout.listenerCount, 2);
    t.mock.timers.tick(1);
    assert.equal(fanout.listenerCount, 1, "slow listener dropped");
    assert.equal(source.paused, false);
    fanout.publish(3);
    fanout.finish(99);
    assert.deepEqual(await take(fastIt, 3), [3, 99]);
    // The dropped listener still gets what was queued, then the error.
    const slowIt = slow[Symbol.asyncIterator]();
    assert.deepEqual(await take(slowIt, 2), [1, 2]);
    await assert.rejects(slowIt.next(), /overloaded/);
  });

  test("keepalive-style injected events bypass back-pressure", async () => {
    const source = new RecordingSource();
    const fanout = new OutputFanout<number>(source, { capacity: 1, overloadError });
    const sub = fanout.subscribe();
    assert.equal(sub.idle, true);
    sub.inject(0);
    assert.equal(sub.idle, false);
    assert.equal(source.paused, false);
    fanout.finish(99);
    assert.deepEqual(await all(sub), [0, 99]);
  });
});
