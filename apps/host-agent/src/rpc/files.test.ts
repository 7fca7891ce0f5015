import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { multipartFile } from "./multipart.js";

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
