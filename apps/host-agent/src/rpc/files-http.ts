/**
 * The agent's plain-HTTP file transfers, served next to the Connect RPCs on the same listener
 * (same mTLS):
 *   - `GET /files/download?sandbox_id=…&path=…&user=…` answers with envd's /files body as it
 *     is, piped with back-pressure;
 *   - `POST /files/upload?sandbox_id=…&path=…&user=…` takes the file's raw bytes as the body
 *     and streams them to envd (204 once envd has stored them).
 * They carry the same bytes as the ReadFileStream / WriteFileStream RPCs without framing
 * every 64 KiB as a protobuf message in a Connect envelope; in Node that framing (three
 * copies and allocations per chunk, and the garbage) cost about three times the CPU of the
 * pipe and capped transfers through the control plane.
 *
 * Errors are answered as a Connect JSON error body (`{"code","message"}`) with Connect's HTTP
 * status for the code, so the control plane maps them exactly like RPC errors. A download
 * that fails after its head cuts the connection (a short body, never wrong bytes).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { readText } from "../envd-client/envd-http.js";
import { type HostAgentDeps, runningEnvd } from "./context.js";
import { toConnectError } from "./errors.js";
import { checkFiles, requirePath } from "./files.js";
import { multipartFile } from "./multipart.js";

/** URL path of the download. */
export const FILE_DOWNLOAD_PATH = "/files/download";

/** URL path of the upload. */
export const FILE_UPLOAD_PATH = "/files/upload";

/** Answers `err` as a Connect JSON error (nothing sent yet) or cuts the connection (head sent). */
function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const ce = toConnectError(err);
  const body = Buffer.from(errorToJsonBytes(ce, {}));
  res.writeHead(codeToHttpStatus(ce.code), { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

async function serveDownload(deps: HostAgentDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  // The caller hanging up stops envd's transfer too.
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  if (req.method !== "GET") throw new ConnectError(`${FILE_DOWNLOAD_PATH} takes GET`, Code.InvalidArgument);
  const q = url.searchParams;
  const envd = runningEnvd(deps, q.get("sandbox_id") ?? "", false);
  const path = requirePath(q.get("path") ?? "");
  const body = await checkFiles(await envd.download(path, q.get("user") || "root", abort.signal), path);
  const headers: OutgoingHttpHeaders = { "content-type": "application/octet-stream" };
  // Bytes pass through unchanged, so envd's length holds — unless envd encoded them (it is
  // never asked to): then the length would describe other bytes, and is left out.
  const length = body.headers["content-length"];
  if (length !== undefined && body.headers["content-encoding"] === undefined) headers["content-length"] = length;
  res.writeHead(200, headers);
  await pipeline(body, res);
}

async function serveUpload(deps: HostAgentDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== "POST") throw new ConnectError(`${FILE_UPLOAD_PATH} takes POST`, Code.InvalidArgument);
  const q = url.searchParams;
  const envd = runningEnvd(deps, q.get("sandbox_id") ?? "", false);
  const path = requirePath(q.get("path") ?? "");
  const mp = multipartFile(path, req);
  // A caller that vanishes mid-body errors the body stream: piping does not end the request
  // to envd on its own, so it is aborted here and the error wins the race (as WriteFileStream).
  const abort = new AbortController();
  const failed = new Promise<never>((_, reject) =>
    mp.body.once("error", (err) => {
      abort.abort(err);
      reject(err);
    }),
  );
  const stored = await Promise.race([
    envd.upload(path, mp.body, mp.contentType, q.get("user") || "root", abort.signal),
    failed,
  ]);
  try {
    await readText(await checkFiles(stored, path));
  } finally {
    // envd answered before the body ended (it refused the upload): stop sending the rest.
    if (!mp.body.readableEnded) abort.abort(new Error("envd answered before the upload ended"));
  }
  res.writeHead(204).end();
}

/**
 * The handler for {@link FILE_DOWNLOAD_PATH} and {@link FILE_UPLOAD_PATH}: returns false for
 * any other URL (the caller passes those on to the RPC handler) and true when it took the
 * request.
 */
export function createFileHttpHandler(deps: HostAgentDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    const serve =
      url.pathname === FILE_DOWNLOAD_PATH ? serveDownload : url.pathname === FILE_UPLOAD_PATH ? serveUpload : undefined;
    if (serve === undefined) return false;
    serve(deps, req, res, url).catch((err: unknown) => fail(res, err));
    return true;
  };
}
