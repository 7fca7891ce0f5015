import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import { LazyPortForwarder } from "./lazy-forwarder.js";

// No port is ever eligible (includePort), so no socat starts: these tests
// only exercise loading and the start/stop state, observed through scans.
const options = {
  log: new MemoryLogger(),
  pacing: { fastMs: 20, probeMs: 20, maxScanGapMs: 20 },
  includePort: () => false,
};
/** A fresh read of the getter (a plain property read would stay narrowed by earlier asserts). */
const loaded = (lazy: LazyPortForwarder) => lazy.current;

describe("LazyPortForwarder", () => {
  test("without a bind address nothing is ever loaded", async () => {
    const lazy = new LazyPortForwarder({ ...options, bindAddress: undefined });
    lazy.start();
    await lazy.settled();
    assert.equal(lazy.current, undefined);
    lazy.stop();
  });

  test("nothing is loaded before the first start; then it scans", async () => {
    const lazy = new LazyPortForwarder({ ...options, bindAddress: "127.0.0.2" });
    assert.equal(loaded(lazy), undefined);
    lazy.start();
    await lazy.settled();
    const forwarder = loaded(lazy);
    assert.ok(forwarder);
    assert.equal(forwarder.started, true);
    // The scan timer is unref'd (scanning never keeps envd alive), so this
    // test holds the event loop open itself while it waits, and gives up loudly.
    const scanned = once(forwarder, "scanned", { signal: AbortSignal.timeout(5000) });
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await scanned;
    } finally {
      clearInterval(keepAlive);
    }
    lazy.stop();
    assert.equal(forwarder.started, false);
  });

  test("a stop while the module loads wins: the forwarder loads stopped and a later start starts it", async () => {
    const lazy = new LazyPortForwarder({ ...options, bindAddress: "127.0.0.2" });
    lazy.start();
    lazy.stop();
    await lazy.settled();
    const forwarder = lazy.current;
    assert.ok(forwarder);
    assert.equal(forwarder.started, false);
    lazy.start();
    assert.equal(forwarder.started, true);
    lazy.stop();
  });
});
