import type { IncomingMessage } from "node:http";
import { PassThrough, pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { errnoOf } from "../errors.js";
import { requestBodyEncoding } from "./files-encoding.js";
import { FilesHttpError } from "./files-errors.js";

/** Buffer per stage of the upload path; large chunks keep syscalls per GiB low. */
export const UPLOAD_CHUNK = 1 << 20;

/**
 * Wraps the request body for streaming into files. The request is piped
 * through a PassThrough so a failing consumer (ENOSPC, a bad multipart part)
 * destroys only the wrapper: destroying the request itself would reset the
 * socket and the client would never see the error response. A request that
 * ends before its declared length (client gone, socket reset) becomes a
 * FilesHttpError on the stream. `Content-Encoding: gzip` is decoded on the fly.
 */
export function openRequestBody(req: IncomingMessage): Readable {
  const encoding = requestBodyEncoding(req.headers["content-encoding"]);
  if (encoding === undefined)
    throw new FilesHttpError(400, "unsupported Content-Encoding, supported: [identity, gzip]");
  const raw = new PassThrough({ highWaterMark: UPLOAD_CHUNK });
  const cutOff = () => {
    if (!req.complete && !raw.destroyed)
      raw.destroy(new FilesHttpError(400, "request body ended before it was complete"));
  };
  req.once("aborted", cutOff);
  req.once("close", cutOff);
  req.on("error", cutOff);
  req.pipe(raw);
  // Consumers see errors through their pipelines. Without these no-op listeners, a body
  // that nobody reads (the upload was refused first) would crash envd when the client
  // then hangs up and the error has nowhere to go.
  raw.on("error", () => {});
  let stream: Readable = raw;
  if (encoding === "gzip") {
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    // The callback form keeps a rejected promise from going unhandled; errors reach the consumer via `gunzip`.
    pipeline(raw, gunzip, () => {});
    gunzip.on("error", () => {});
    stream = gunzip;
  }
  return stream;
}

/**
 * Maps an error from the upload path to what the client should see: a 400
 * for a body that ended early (already a FilesHttpError), is not valid gzip
 * (zlib's Z_* codes) or is not valid multipart. busboy reports malformed
 * input with plain `Error`s that carry no code, while every system, zlib and
 * stream error has one, which is what tells them apart. The stream plumbing
 * hands one error object to every stage it tears down, so asking which
 * stream emitted it would not work. Anything else (ENOSPC, EACCES...) is
 * returned unchanged.
 */
export function explainUploadError(err: unknown): unknown {
  if (err instanceof FilesHttpError) return err;
  const code = errnoOf(err);
  if (code?.startsWith("Z_")) return new FilesHttpError(400, "request body is not valid gzip data");
  if (err instanceof Error && err.constructor === Error && code === undefined) {
    return new FilesHttpError(400, `malformed multipart body: ${err.message}`);
  }
  return err;
}
