/**
 * The host agent's plain-HTTP file transfers (`GET /files/download`, `POST /files/upload`,
 * served by the agent next to its RPCs): a capsule file's bytes as they are, without the
 * per-chunk protobuf and Connect framing of the ReadFileStream / WriteFileStream RPCs, which
 * cost about three times the CPU of the transfer itself in Node. Errors keep the RPC's shape
 * (Connect codes), so callers map them with `agentErrorToApi` like any RPC error.
 */
import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromHttpStatus, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";

/** URL path of the agent's download endpoint. */
export const AGENT_FILE_DOWNLOAD_PATH = "/files/download";

/** URL path of the agent's upload endpoint. */
export const AGENT_FILE_UPLOAD_PATH = "/files/upload";

/** An error body larger than this is not read (the agent's are a few hundred bytes). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Which file to transfer. `user` '' means the agent's default (root). */
export interface AgentFileRequest {
  readonly sandboxId: string;
  readonly path: string;
  readonly user: string;
}

/** Plain-HTTP file transfers of one host agent, over the pool's RPC sockets (same TLS). */
export class AgentFiles {
  readonly #baseUrl: string;
  readonly #agent: HttpAgent | HttpsAgent;

  /** `baseUrl` is `http(s)://host:port`; `agent` the keep-alive agent the host's RPCs use. */
  constructor(baseUrl: string, agent: HttpAgent | HttpsAgent) {
    this.#baseUrl = baseUrl;
    this.#agent = agent;
  }

  /**
   * Opens a download. Resolves once the agent has answered 200 with the response, its body
   * unread (read it, or destroy it); `content-length` is set when the agent knows the size.
   * Rejects with a ConnectError: the agent's own (NotFound for a missing file,
   * FailedPrecondition for a capsule that is not running, …), Unavailable when the agent
   * cannot be reached, Canceled when `signal` aborts first.
   */
  async download(req: AgentFileRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const res = await this.#send("GET", this.#url(AGENT_FILE_DOWNLOAD_PATH, req), undefined, signal);
    if (res.statusCode === 200) return res;
    throw await errorFrom(res);
  }

  /**
   * Streams `content` into the file (created or replaced) and resolves once the agent has
   * stored it. `content` is read only as fast as the agent takes bytes. Rejects like
   * {@link download}; when the agent answers an error before the body is sent, sending stops.
   * When `content` fails, the transfer is cut (nothing is stored) and that error is thrown.
   */
  async upload(req: AgentFileRequest, content: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
    const res = await this.#send("POST", this.#url(AGENT_FILE_UPLOAD_PATH, req), content, signal);
    if (res.statusCode === 204) {
      res.resume();
      return;
    }
    throw await errorFrom(res);
  }

  #url(path: string, req: AgentFileRequest): URL {
    const url = new URL(path, this.#baseUrl);
    url.searchParams.set("sandbox_id", req.sandboxId);
    url.searchParams.set("path", req.path);
    if (req.user !== "") url.searchParams.set("user", req.user);
    return url;
  }

  /** Sends the request (streaming `body` with back-pressure) and resolves with the response head. */
  #send(
    method: string,
    url: URL,
    body: AsyncIterable<Uint8Array> | undefined,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const headers = body === undefined ? {} : { "content-type": "application/octet-stream" };
      const req = request(url, { method, headers, agent: this.#agent, signal });
      let answered = false;
      req.once("response", (res) => {
        answered = true;
        // An answer before the whole body went out is an error: stop sending the rest.
        if (!req.writableFinished) res.once("end", () => req.destroy());
        resolve(res);
      });
      let sourceError: unknown;
      const failed = (err: unknown) => {
        if (answered) return;
        if (sourceError !== undefined) {
          reject(sourceError);
        } else if (signal.aborted) {
          reject(new ConnectError("the transfer was canceled", Code.Canceled, undefined, undefined, err));
        } else {
          reject(new ConnectError("host agent unreachable", Code.Unavailable, undefined, undefined, err));
        }
      };
      req.once("error", failed);
      if (body === undefined) {
        req.end();
      } else {
        // The source failing (the caller's upload broke off, or was too large) destroys the
        // request: the agent sees a cut body and stores nothing; the caller gets the source's error.
        const source = async function* () {
          try {
            yield* body;
          } catch (err) {
            sourceError = err;
            throw err;
          }
        };
        pipeline(Readable.from(source(), { objectMode: false }), req).catch(failed);
      }
    });
  }
}

/** The agent's Connect JSON error body as a ConnectError (the HTTP status when it has none). */
async function errorFrom(res: IncomingMessage): Promise<ConnectError> {
  const status = res.statusCode ?? 0;
  const fallback = new ConnectError(`host agent answered HTTP ${status}`, codeFromHttpStatus(status));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ERROR_BODY_BYTES) {
      res.destroy();
      return fallback;
    }
    chunks.push(chunk);
  }
  if (!String(res.headers["content-type"]).startsWith("application/json")) return fallback;
  try {
    return errorFromJsonBytes(Buffer.concat(chunks), undefined, fallback);
  } catch {
    return fallback;
  }
}
