import type { IncomingMessage, ServerResponse } from "node:http";
import type { EnvdEnv } from "../env.js";
import { authorizeFilesRequest } from "./files-auth.js";
import { serveFile } from "./files-download.js";
import { sendFilesError } from "./files-errors.js";
import { receiveFiles } from "./files-upload.js";

/**
 * `GET/HEAD /files`: downloads a file. Authenticates itself (access token or
 * signed URL, see `authorizeFilesRequest`) because signed URLs stand in for
 * the token here. Never throws: every failure becomes a `{code, message}` answer.
 */
export async function handleFilesDownload(env: EnvdEnv, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const log = env.log.child({ route: "GET /files" });
  try {
    await serveFile(env, authorizeFilesRequest(env, req, "read"), req, res);
  } catch (err) {
    sendFilesError(res, err, { log });
  }
}

/**
 * `POST/PUT /files`: uploads one or more files (multipart or octet-stream).
 * Authenticates like the download. Never throws.
 */
export async function handleFilesUpload(env: EnvdEnv, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const log = env.log.child({ route: "POST /files" });
  try {
    await receiveFiles(env, authorizeFilesRequest(env, req, "write"), req, res);
  } catch (err) {
    sendFilesError(res, err, { log });
  }
}
