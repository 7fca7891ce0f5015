import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rechunk } from "./files.js";
import { multipartFile } from "./multipart.js";

async function* from(sizes: number[]): AsyncGenerator<Buffer> {
  let n = 0;
  for (const s of sizes) yield Buffer.from(Array.from({ length: s }, () => n++ % 251));
}

describe("rechunk", () => {
  it("re-cuts any input into fixed-size chunks without losing or reordering bytes", async () => {
    const out: Uint8Array[] = [];
    for await (const c of rechunk(from([3, 10, 1, 0, 7, 20]), 8)) out.push(c);
    assert.deepEqual(
      out.map((c) => c.length),
      [8, 8, 8, 8, 8, 1],
    );
    const all = Buffer.concat(out);
    assert.ok(all.every((b, i) => b === i % 251));
  });
});

describe("multipartFile", () => {
  it("frames the chunks as one `file` part with a safe file name", async () => {
    const mp = multipartFile('/x/we"ird\r\nname', [Buffer.from("ab"), Buffer.alloc(0), Buffer.from("cd")]);
    const boundary = /boundary=(\S+)$/.exec(mp.contentType)?.[1] ?? "";
    assert.match(boundary, /^wrenn-[0-9a-f]{24}$/);
    const chunks: Buffer[] = [];
    for await (const c of mp.body) chunks.push(Buffer.from(c as Uint8Array));
    assert.equal(
      Buffer.concat(chunks).toString(),
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="we_ird__name"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\nabcd\r\n--${boundary}--\r\n`,
    );
  });
});
