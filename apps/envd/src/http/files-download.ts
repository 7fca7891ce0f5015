import { type BigIntStats, constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip, constants as zlibConstants } from "node:zlib";
import { assertAccess } from "../access.js";
import type { EnvdEnv } from "../env.js";
import { errnoOf } from "../errors.js";
import { resolvePath } from "../paths.js";
import { contentDisposition, contentTypeFor, isPrecompressed } from "./content-type.js";
import type { FilesRequest } from "./files-auth.js";
import { worthCompressing } from "./files-compressibility.js";
import { type FileValidators, isConditionalOrPartial, isNotModified, rangeStillValid } from "./files-conditional.js";
import { negotiateEncoding } from "./files-encoding.js";
import { FilesHttpError } from "./files-errors.js";
import { parseRange } from "./files-range.js";
import { sendFileRange } from "./files-send.js";
import { sendError } from "./respond.js";

/** Read size per chunk: large enough for throughput, small enough to keep memory flat. */
const CHUNK = 1 << 20;

/**
 * Serves `GET/HEAD /files`: the whole file, one byte range (206/416), or a
 * gzip stream when the client prefers it. The body is piped from the file
 * with back-pressure, so memory stays flat at any file size.
 */
export async function serveFile(
  env: EnvdEnv,
  request: FilesRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = resolvePath(request.path, request.user, env.state.defaultWorkdir);
  await assertAccess(path, request.user, "read");
  const handle = await openRegularFile(path);
  let handedOff = false;
  try {
    const st = await handle.stat({ bigint: true });
    if (st.isDirectory()) throw new FilesHttpError(400, `path '${path}' is a directory`);
    if (!st.isFile()) throw new FilesHttpError(400, `path '${path}' is not a regular file`);
    const size = Number(st.size);
    const name = posix.basename(path);
    const acceptEncoding = req.headers["accept-encoding"];
    const encoding = negotiateEncoding(acceptEncoding, {
      preferIdentity: isConditionalOrPartial(req.headers) || isPrecompressed(name) || size === 0,
    });
    if (encoding === undefined)
      throw new FilesHttpError(406, "no acceptable encoding found, supported: [identity, gzip]");
    const identityOk = negotiateEncoding(acceptEncoding, { preferIdentity: true }) === "identity";
    const coding = encoding === "gzip" && identityOk && !(await worthCompressing(handle, size)) ? "identity" : encoding;

    const validators = validatorsOf(st);
    const headers: OutgoingHttpHeaders = {
      "content-type": contentTypeFor(name),
      "content-disposition": contentDisposition(name),
      "last-modified": new Date(validators.mtimeSeconds * 1000).toUTCString(),
      etag: validators.etag,
      "accept-ranges": "bytes",
      vary: "Accept-Encoding",
      "cache-control": "no-cache",
    };
    if (isNotModified(req.headers, validators)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const head = req.method === "HEAD";
    if (coding === "gzip") {
      res.writeHead(200, { ...headers, "content-encoding": "gzip" });
      if (head) return void res.end();
      handedOff = true;
      // Level 1: on-the-fly compression competes with the sandbox's workload for CPU.
      await send(env, [
        handle.createReadStream({ highWaterMark: CHUNK }),
        createGzip({ level: zlibConstants.Z_BEST_SPEED }),
        res,
      ]);
      return;
    }
    const range = rangeStillValid(req.headers, validators) ? parseRange(req.headers.range, size) : undefined;
    if (range === "unsatisfiable") {
      res.setHeader("content-range", `bytes */${size}`);
      sendError(res, 416, `range not satisfiable for a file of ${size} bytes`);
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const status = range ? 206 : 200;
    if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, { ...headers, "content-length": end - start + 1 });
    if (head || size === 0) return void res.end();
    try {
      await sendFileRange(handle, start, end, res);
    } catch (err) {
      // Headers are out; a read error can only end the response early.
      env.log.debug({ err }, "file download ended early");
      res.destroy();
    }
  } finally {
    if (!handedOff) await handle.close();
  }
}

/**
 * Opens without following into FIFOs or devices: O_NONBLOCK keeps open(2) of
 * a FIFO from hanging until a writer appears; the caller then rejects
 * anything that is not a regular file.
 */
async function openRegularFile(path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === "ENOENT" || errno === "ENOTDIR") throw new FilesHttpError(404, `path '${path}' does not exist`);
    if (errno === "ENXIO") throw new FilesHttpError(400, `path '${path}' is not a regular file`);
    throw err;
  }
}

function validatorsOf(st: BigIntStats): FileValidators {
  // The inode changes with every upload (temp file + rename), size and ns mtime with in-place writes.
  const etag = `"${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}"`;
  return { etag, mtimeSeconds: Number(st.mtimeMs / 1000n) };
}

type Stage = NodeJS.ReadableStream | NodeJS.ReadWriteStream | NodeJS.WritableStream;

async function send(env: EnvdEnv, stages: [Stage, ...Stage[]]): Promise<void> {
  try {
    await pipeline(stages);
  } catch (err) {
    // Headers are out; a client that went away or a read error can only end the response early.
    env.log.debug({ err }, "file download ended early");
  }
}
