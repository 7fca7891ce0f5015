import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type PtyCommandSink, PtyInputPump } from "./pty-input-pump.js";

/** A sink whose RPCs take `delayMs` each and record what they were given. */
function slowSink(delayMs: number) {
  const calls: string[] = [];
  const sink: PtyCommandSink = {
    async input(data) {
      calls.push(`input:${Buffer.from(data).toString()}`);
      await new Promise((r) => setTimeout(r, delayMs));
    },
    async resize(cols, rows) {
      calls.push(`resize:${cols}x${rows}`);
      await new Promise((r) => setTimeout(r, delayMs));
    },
    async kill() {
      calls.push("kill");
    },
  };
  return { sink, calls };
}
const bytes = (s: string) => Buffer.from(s);
const failOnError = (err: unknown): void => assert.fail(`unexpected error: ${String(err)}`);

describe("PtyInputPump", () => {
  test("joins keystrokes typed while an RPC is in flight into one RPC", async () => {
    const { sink, calls } = slowSink(20);
    const pump = new PtyInputPump({ sink, onBackpressure: () => undefined, onError: failOnError });
    for (const ch of "hello world") pump.push({ type: "input", data: bytes(ch) });
    await pump.flushed();
    assert.deepEqual(calls, ["input:h", "input:ello world"]);
  });

  test("keeps resize and kill in order between inputs (none dropped)", async () => {
    const { sink, calls } = slowSink(10);
    const pump = new PtyInputPump({ sink, onBackpressure: () => undefined, onError: failOnError });
    pump.push({ type: "input", data: bytes("a") });
    pump.push({ type: "input", data: bytes("b") });
    pump.push({ type: "resize", cols: 100, rows: 30 });
    pump.push({ type: "input", data: bytes("c") });
    pump.push({ type: "kill" });
    await pump.flushed();
    assert.deepEqual(calls, ["input:a", "input:b", "resize:100x30", "input:c", "kill"]);
  });

  test("pauses the reader above the high-water mark instead of dropping, resumes when drained", async () => {
    const { sink, calls } = slowSink(5);
    const events: boolean[] = [];
    const pump = new PtyInputPump({
      sink,
      onBackpressure: (p) => events.push(p),
      onError: failOnError,
      highWaterBytes: 1000,
      maxBatchBytes: 300,
    });
    const chunk = "x".repeat(100);
    for (let i = 0; i < 50; i++) pump.push({ type: "input", data: bytes(chunk) });
    await pump.flushed();
    assert.deepEqual(events, [true, false]);
    const delivered = calls.map((c) => c.slice("input:".length)).join("");
    assert.equal(delivered.length, 5000, "every byte delivered");
    assert.ok(
      calls.every((c) => c.length - "input:".length <= 300),
      "batches respect the size cap",
    );
  });

  test("a failed RPC is reported and the next ones still go out", async () => {
    const errors: unknown[] = [];
    let n = 0;
    const sink: PtyCommandSink = {
      async input() {
        n++;
        if (n === 1) throw new Error("agent hiccup");
      },
      async resize() {},
      async kill() {},
    };
    const pump = new PtyInputPump({ sink, onBackpressure: () => undefined, onError: (e) => errors.push(e) });
    pump.push({ type: "input", data: bytes("1") });
    await pump.flushed();
    pump.push({ type: "input", data: bytes("2") });
    await pump.flushed();
    assert.equal(errors.length, 1);
    assert.equal(n, 2);
  });

  test("close aborts the RPC in flight and discards the queue", async () => {
    let aborted = false;
    const sink: PtyCommandSink = {
      input: (_d, signal) =>
        new Promise((_r, reject) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
      async resize() {},
      async kill() {},
    };
    const pump = new PtyInputPump({
      sink,
      onBackpressure: () => undefined,
      onError: failOnError,
      rpcTimeoutMs: 60_000,
    });
    pump.push({ type: "input", data: bytes("a") });
    pump.push({ type: "input", data: bytes("b") });
    pump.close();
    await pump.flushed();
    assert.ok(aborted);
  });
});
