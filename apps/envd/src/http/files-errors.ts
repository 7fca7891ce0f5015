import type { ServerResponse } from "node:http";
import type { Logger } from "@wrenn/kit";
import { AccessDeniedError } from "../access.js";
import { errnoOf, httpStatusOf, toConnectError } from "../errors.js";
import { InvalidPathError } from "../paths.js";
import { UnknownUserError } from "../users.js";
import { sendError } from "./respond.js";

/** A /files failure that already knows its HTTP status and client-facing message. */
export class FilesHttpError extends Error {
  override name = "FilesHttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** HTTP status and message for anything a /files handler throws. */
export function describeFilesError(err: unknown, subject?: string): { status: number; message: string } {
  if (err instanceof FilesHttpError) return { status: err.status, message: err.message };
  if (err instanceof UnknownUserError) return { status: 401, message: err.message };
  if (err instanceof InvalidPathError) return { status: 400, message: err.message };
  if (err instanceof AccessDeniedError) return { status: 403, message: err.message };
  const errno = errnoOf(err);
  if (errno === "ENOSPC" || errno === "EDQUOT") return { status: 507, message: "not enough disk space available" };
  const status = httpStatusOf(err);
  return { status, message: toConnectError(err, subject).message };
}

/** How long the rest of a refused upload is read and dropped before answering anyway. */
export const UPLOAD_LINGER_MS = 5000;

/**
 * Answers a failed /files request with envd's `{code, message}` body and logs
 * server-side failures (5xx) with their cause, which never reaches the client.
 *
 * When the request body was not read to the end (an upload refused mid-way, e.g.
 * the disk is full), the rest is read and dropped first and the answer goes out
 * when the body ends — or after {@link UPLOAD_LINGER_MS}, then with the connection
 * closed. Answering and closing at once makes the client's next write fail
 * (EPIPE/ECONNRESET), and the reset can discard the answer it had not read yet:
 * the client saw a broken pipe instead of the 507.
 */
export function sendFilesError(res: ServerResponse, err: unknown, opts: { log: Logger; subject?: string }): void {
  const { status, message } = describeFilesError(err, opts.subject);
  if (status >= 500) opts.log.error({ err, status }, "files request failed");
  else opts.log.debug({ status, message }, "files request rejected");
  if (res.destroyed) return;
  const req = res.req;
  if (res.headersSent || req.complete || req.destroyed) {
    sendError(res, status, message);
    return;
  }
  let answered = false;
  const answer = (close: boolean) => {
    if (answered || res.destroyed) return;
    answered = true;
    clearTimeout(linger);
    if (close) res.setHeader("connection", "close");
    sendError(res, status, message);
  };
  const linger = setTimeout(() => answer(true), UPLOAD_LINGER_MS);
  req.once("end", () => answer(false));
  req.once("error", () => answer(true));
  req.resume();
}
