import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { ApiError, invalidRequest, tooLarge } from "../http/api-error.js";

/** One upload: the destination path and the file's bytes as a stream (read it exactly once). */
export interface UploadPart {
  readonly path: string;
  readonly content: AsyncIterable<Uint8Array>;
}

/** Options of {@link readUpload}. */
export interface ReadUploadOptions {
  /** Largest file accepted; more → 413 `too_large`. Undefined: no limit. */
  readonly maxBytes: number | undefined;
  /**
   * When true the `path` field must come before the file (streaming route);
   * when false a file that arrives first is spooled to a temporary file until
   * `path` is known — memory stays constant either way.
   */
  readonly fieldsFirst: boolean;
  /** Consumes the upload. Its errors propagate; the request is drained or destroyed either way. */
  readonly consume: (part: UploadPart) => Promise<void>;
}

/**
 * Parses a `multipart/form-data` request with a `path` field and a `file`
 * part, handing the file to `consume` as a stream with back-pressure: the
 * socket is read only as fast as `consume` takes bytes.
 */
export async function readUpload(req: IncomingMessage, options: ReadUploadOptions): Promise<void> {
  const contentType = req.headers["content-type"] ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    throw new ApiError(415, "unsupported_media_type", "send the file as multipart/form-data");
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: {
        files: 1,
        fields: 4,
        fieldSize: 8192,
        ...(options.maxBytes === undefined ? {} : { fileSize: options.maxBytes }),
      },
    });
  } catch {
    throw invalidRequest("malformed multipart request");
  }

  return new Promise<void>((resolve, reject) => {
    let path: string | undefined;
    let spool: { dir: string; file: string } | undefined;
    let consuming: Promise<void> | undefined;
    let sawFile = false;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      if (spool) void rm(spool.dir, { recursive: true, force: true });
      reject(err);
    };

    parser.on("field", (name, value) => {
      if (name === "path") path = value;
    });
    parser.on("file", (name, stream: Readable & { truncated?: boolean }) => {
      if (name !== "file" || sawFile) {
        stream.resume();
        return;
      }
      sawFile = true;
      stream.on("limit", () => {
        const err = tooLarge(`the file is larger than ${options.maxBytes} bytes`);
        fail(err);
        // Fail the consumer too: a truncated file must not be stored in place of the real one.
        stream.destroy(err);
      });
      if (path !== undefined) {
        consuming = options.consume({ path, content: stream }).catch((err: unknown) => {
          stream.resume();
          throw err;
        });
        consuming.catch(fail);
        return;
      }
      if (options.fieldsFirst) {
        stream.resume();
        fail(invalidRequest("the `path` field must come before the file"));
        return;
      }
      consuming = spoolFile(stream).then((s) => {
        spool = s;
      });
      consuming.catch(fail);
    });
    parser.on("error", () => fail(invalidRequest("malformed multipart request")));
    parser.on("close", () => {
      if (failed) return;
      if (!sawFile) return fail(invalidRequest("the `file` part is missing"));
      void (async () => {
        await consuming;
        if (spool !== undefined) {
          if (path === undefined) throw invalidRequest("the `path` field is missing");
          const s = spool;
          try {
            await options.consume({ path, content: createReadStream(s.file, { highWaterMark: 64 * 1024 }) });
          } finally {
            await rm(s.dir, { recursive: true, force: true });
          }
        }
      })().then(resolve, fail);
    });
    req.on("aborted", () => fail(new ApiError(499, "canceled", "the client went away")));
    req.pipe(parser);
  });
}

async function spoolFile(stream: Readable): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "wrenn-upload-"));
  const file = join(dir, "file");
  try {
    await pipeline(stream, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, file };
}
