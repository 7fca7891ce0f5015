import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { EnvdEnv } from "../env.js";
import { resolvePath } from "../paths.js";
import type { FilesRequest } from "./files-auth.js";
import { explainUploadError, openRequestBody } from "./files-body.js";
import { FilesHttpError } from "./files-errors.js";
import { parseMetadataHeaders } from "./files-metadata.js";
import { discardAll, stageMultipart } from "./files-multipart.js";
import { type StagedFile, stageFile } from "./files-staged-file.js";
import { sendJson } from "./respond.js";

/**
 * Serves `POST/PUT /files`: a multipart/form-data body (every part named
 * `file`; its filename is the path unless the `path` query names the single
 * target) or an application/octet-stream body written to the `path` query.
 * Every file is staged in full first and only then renamed into place, so a
 * failed request changes nothing. Answers 200 with one entry per file.
 */
export async function receiveFiles(
  env: EnvdEnv,
  request: FilesRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const metadata = parseMetadataHeaders(req);
  const kind = bodyKind(req.headers["content-type"]);
  const body = openRequestBody(req);
  const stage = (path: string, source: Readable) => stageFile({ path, user: request.user, metadata, source });
  const resolve = (input: string) => resolvePath(input, request.user, env.state.defaultWorkdir);

  let staged: StagedFile[];
  if (kind === "raw") {
    if (!request.hasPath)
      throw new FilesHttpError(400, "the path query parameter is required for an application/octet-stream upload");
    try {
      staged = [await stage(resolve(request.path), body)];
    } catch (err) {
      throw explainUploadError(err);
    }
  } else {
    staged = await stageMultipart(req.headers, body, {
      resolveTarget(filename) {
        if (request.hasPath) return resolve(request.path);
        if (filename === undefined || filename === "") {
          throw new FilesHttpError(400, "a file part has no filename and the path query parameter is missing");
        }
        return resolve(filename);
      },
      stage,
    });
  }
  await commitAll(staged);
  sendJson(
    res,
    200,
    staged.map((file) => file.entry),
  );
}

async function commitAll(staged: readonly StagedFile[]): Promise<void> {
  for (const [i, file] of staged.entries()) {
    try {
      await file.commit();
    } catch (err) {
      await discardAll(staged.slice(i));
      throw err;
    }
  }
}

function bodyKind(contentType: string | undefined): "raw" | "multipart" {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (media === "application/octet-stream") return "raw";
  if (media.startsWith("multipart/")) return "multipart";
  throw new FilesHttpError(400, "unsupported Content-Type, expected multipart/form-data or application/octet-stream");
}
