import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boundedChunks } from "./bounded-chunks.js";

async function* from(sizes: number[]): AsyncGenerator<Buffer> {
  let n = 0;
  for (const s of sizes) yield Buffer.from(Array.from({ length: s }, () => n++ % 251));
}

describe("boundedChunks", () => {
  it("cuts any input into chunks of min..max bytes (the last may be shorter) without losing or reordering bytes", async () => {
    const out: Uint8Array[] = [];
    for await (const c of boundedChunks(from([3, 10, 1, 0, 7, 20, 2, 4, 5]), 8, 4)) out.push(c);
    assert.deepEqual(
      out.map((c) => c.length),
      // 3 waits; 10 tops it up to 8 and its other 5 go as they are; 1+0+7 → 8; 20 → 8, 8, 4;
      // 2 waits, 4 makes it 6 (>= min, sent); 5 goes as it is.
      [8, 5, 8, 8, 8, 4, 6, 5],
    );
    const all = Buffer.concat(out);
    assert.equal(all.length, 52);
    assert.ok(all.every((b, i) => b === i % 251));
  });

  it("passes large source buffers on as slices of themselves (no copy) and copies only joined small ones", async () => {
    const big = Buffer.alloc(20, 1);
    const small = [Buffer.alloc(2, 2), Buffer.alloc(3, 3)];
    const out: Uint8Array[] = [];
    async function* src() {
      yield big;
      yield* small;
    }
    for await (const c of boundedChunks(src(), 8, 4)) out.push(c);
    assert.deepEqual(
      out.map((c) => c.length),
      [8, 8, 4, 5],
    );
    for (const c of out.slice(0, 3)) assert.equal(c.buffer, big.buffer, "a slice of the source");
    assert.notEqual(out[3]?.buffer, small[0]?.buffer);
    assert.deepEqual([...(out[3] ?? [])], [2, 2, 3, 3, 3]);
  });

  it("refuses a minimum above the maximum", async () => {
    await assert.rejects(boundedChunks(from([1]), 4, 8).next(), RangeError);
  });
});
