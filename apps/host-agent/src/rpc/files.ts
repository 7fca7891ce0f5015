/** File handlers: whole-file and streamed transfers over envd /files, directory RPCs. */
import type { IncomingMessage } from "node:http";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { boundedChunks } from "@wrenn/kit";
import type { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { readText } from "../envd-client/envd-http.js";
import { type HostAgentDeps, runningEnvd } from "./context.js";
import { invalidArgument } from "./errors.js";
import { fileEntry } from "./file-entry.js";
import { multipartFile } from "./multipart.js";

type Impl = ServiceImpl<typeof HostAgentService>;

/** Largest ReadFileStream chunk (reference: 64 KiB). */
export const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Smallest ReadFileStream chunk but the last. envd's body arrives in socket reads of up to
 * 64 KiB; passing those on as they are (instead of copying every byte into fresh 64 KiB
 * buffers) saves a copy and an allocation per chunk, and tiny reads are still joined so the
 * per-message cost stays amortised.
 */
export const READ_CHUNK_MIN_BYTES = 16 * 1024;

const HTTP_CODES: Readonly<Record<number, Code>> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.NotFound,
  507: Code.ResourceExhausted,
};

/**
 * Throws a ConnectError for a non-2xx envd /files answer: "<path>: <envd's message>" (envd's
 * JSON error body; its raw text, bounded, when it is not JSON), so the API's caller reads
 * e.g. "/data/x.bin: not enough disk space available".
 */
export async function checkFiles(res: IncomingMessage, path: string): Promise<IncomingMessage> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return res;
  const text = (await readText(res)).slice(0, 500);
  throw new ConnectError(`${path}: ${envdMessage(text, status)}`, HTTP_CODES[status] ?? Code.Internal);
}

function envdMessage(text: string, status: number): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === "string" && body.message !== "") return body.message;
  } catch {
    // Not JSON: the text itself.
  }
  return text.trim() || `envd answered HTTP ${status}`;
}

/** Rejects an empty path (InvalidArgument). */
export function requirePath(path: string): string {
  if (path === "") throw invalidArgument("path is required");
  return path;
}

/** The file part of the service. */
export function fileHandlers(
  deps: HostAgentDeps,
): Pick<Impl, "writeFile" | "readFile" | "writeFileStream" | "readFileStream" | "listDir" | "makeDir" | "removePath"> {
  const user = (u: string) => u || "root";
  return {
    async writeFile(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      const path = requirePath(req.path);
      const mp = multipartFile(path, [req.content]);
      const res = await envd.upload(path, mp.body, mp.contentType, user(req.user), ctx.signal);
      await readText(await checkFiles(res, path));
      return {};
    },
    async readFile(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      const path = requirePath(req.path);
      const res = await checkFiles(await envd.download(path, user(req.user), ctx.signal), path);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return { content: Buffer.concat(chunks) };
    },
    async writeFileStream(reqs, ctx) {
      const it = reqs[Symbol.asyncIterator]();
      const first = await it.next();
      const meta = first.done ? undefined : first.value.content;
      if (meta?.case !== "meta") throw invalidArgument("the first message must carry meta");
      const envd = runningEnvd(deps, meta.value.sandboxId, false);
      const path = requirePath(meta.value.path);
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          const c = r.value.content;
          if (c.case !== "chunk") throw invalidArgument("only chunks may follow meta");
          yield c.value;
        }
      }
      const mp = multipartFile(path, chunks());
      // A bad chunk or a vanished caller errors the body stream: piping does not end the
      // request to envd on its own, so it is aborted here and the error wins the race.
      const abort = new AbortController();
      const failed = new Promise<never>((_, reject) =>
        mp.body.once("error", (err) => {
          abort.abort(err);
          reject(err);
        }),
      );
      const signal = AbortSignal.any([ctx.signal, abort.signal]);
      const res = await Promise.race([
        envd.upload(path, mp.body, mp.contentType, user(meta.value.user), signal),
        failed,
      ]);
      await readText(await checkFiles(res, path));
      return {};
    },
    async *readFileStream(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      const path = requirePath(req.path);
      const res = await checkFiles(await envd.download(path, user(req.user), ctx.signal), path);
      for await (const chunk of boundedChunks(res, READ_CHUNK_BYTES, READ_CHUNK_MIN_BYTES)) yield { chunk };
    },
    async listDir(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      const res = await envd.filesystem.listDir(
        { path: requirePath(req.path), depth: req.depth },
        { signal: ctx.signal },
      );
      return { entries: res.entries.map(fileEntry) };
    },
    async makeDir(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      const res = await envd.filesystem.makeDir({ path: requirePath(req.path) }, { signal: ctx.signal });
      return res.entry ? { entry: fileEntry(res.entry) } : {};
    },
    async removePath(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, false);
      await envd.filesystem.remove({ path: requirePath(req.path) }, { signal: ctx.signal });
      return {};
    },
  };
}
