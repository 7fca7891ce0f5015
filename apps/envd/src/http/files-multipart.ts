import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { explainUploadError, UPLOAD_CHUNK } from "./files-body.js";
import { FilesHttpError } from "./files-errors.js";
import type { StagedFile } from "./files-staged-file.js";

/** Most file parts one request may carry. */
const MAX_FILES = 1000;

/** How the multipart reader turns parts into staged files. */
export interface MultipartHandlers {
  /** Absolute target path for a part, from its filename (undefined when the part has none). Throws to reject. */
  resolveTarget(filename: string | undefined): string;
  /** Streams one part to its target; see `stageFile`. */
  stage(path: string, source: Readable): Promise<StagedFile>;
}

/**
 * Reads a multipart/form-data body with busboy, streaming every part named
 * `file` into a staged file as it arrives (busboy holds the next bytes until
 * the current part is consumed, so memory stays flat). Nothing is committed
 * here: on any error every part staged so far is discarded and the first
 * error is thrown, so a truncated or malformed request changes nothing.
 * Parts with another field name are skipped, as in E2B envd; two parts for
 * the same path are refused.
 */
export async function stageMultipart(
  headers: IncomingHttpHeaders,
  body: Readable,
  handlers: MultipartHandlers,
): Promise<StagedFile[]> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      // The e2b SDK sends each file's path as its filename; keep the directories.
      preservePath: true,
      // Filenames arrive as raw UTF-8 (WHATWG FormData), not Latin-1.
      defParamCharset: "utf8",
      fileHwm: UPLOAD_CHUNK,
      highWaterMark: UPLOAD_CHUNK,
      limits: { files: MAX_FILES, fields: 100, fieldSize: 64 * 1024, headerPairs: 100 },
    });
  } catch (err) {
    throw new FilesHttpError(400, `malformed multipart request: ${messageOf(err)}`);
  }
  const staged: StagedFile[] = [];
  const work: Promise<void>[] = [];
  const paths = new Set<string>();
  let failure: unknown;
  const fail = (err: unknown): void => {
    if (failure === undefined) failure = explainUploadError(err);
    // Stops parsing; the pipeline below then rejects and the remaining body is left unread.
    parser.destroy();
  };

  // Errors reach us through the pipeline and the stage promises; these listeners only keep
  // a late 'error' (after a part was skipped or the pipeline settled) from crashing envd.
  parser.on("error", () => {});
  parser.on("filesLimit", () => fail(new FilesHttpError(400, `at most ${MAX_FILES} files per request`)));
  parser.on("file", (field, stream, info) => {
    stream.on("error", () => {});
    if (failure !== undefined || field !== "file") {
      stream.resume();
      return;
    }
    const index = paths.size;
    let path: string;
    try {
      path = handlers.resolveTarget(info.filename);
      if (paths.has(path))
        throw new FilesHttpError(400, `cannot upload several files to the same path '${path}' in one request`);
    } catch (err) {
      stream.resume();
      fail(err);
      return;
    }
    paths.add(path);
    work.push(
      handlers.stage(path, stream).then(
        (file) => {
          staged[index] = file;
        },
        (err: unknown) => {
          stream.resume();
          fail(err);
        },
      ),
    );
  });

  try {
    await pipeline(body, parser);
  } catch (err) {
    fail(err);
  }
  await Promise.all(work);
  if (failure === undefined && paths.size === 0)
    failure = new FilesHttpError(400, "the request has no file part named 'file'");
  if (failure !== undefined) {
    await discardAll(staged);
    throw failure;
  }
  return staged;
}

/** Discards staged files, newest first, so directories shared between them are removed last. */
export async function discardAll(files: readonly (StagedFile | undefined)[]): Promise<void> {
  for (const file of [...files].reverse()) await file?.discard();
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
