/** A streaming multipart/form-data body with one `file` field, for envd's POST /files. */
import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { Readable } from "node:stream";

/** The body stream and its content type. */
export interface MultipartBody {
  readonly body: Readable;
  readonly contentType: string;
}

/**
 * Wraps `chunks` in a single-part multipart body without buffering them: memory stays
 * constant however large the upload. Readable.from pulls one chunk at a time, so the
 * caller's source is only read as fast as envd accepts bytes.
 */
export function multipartFile(path: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): MultipartBody {
  const boundary = `wrenn-${randomBytes(12).toString("hex")}`;
  // The file name is informational (envd takes the path from the query); quotes and line
  // breaks are stripped so it cannot break the part header.
  const name = basename(path).replace(/["\r\n\\]/g, "_") || "file";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* parts(): AsyncGenerator<Uint8Array> {
    yield head;
    for await (const c of chunks) if (c.byteLength > 0) yield c;
    yield tail;
  }
  return {
    body: Readable.from(parts(), { objectMode: false }),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
