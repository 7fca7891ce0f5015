/**
 * The host agent's plain-HTTP file download (`GET /files/download`, served by the agent next
 * to its RPCs): the bytes of a capsule file as they are, without the per-chunk protobuf and
 * Connect framing of the ReadFileStream RPC, which cost about three times the CPU of the
 * transfer itself in Node. Errors keep the RPC's shape (Connect codes), so callers map them
 * with `agentErrorToApi` like any RPC error.
 */
import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromHttpStatus, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";

/** URL path of the agent's download endpoint. */
export const AGENT_FILE_DOWNLOAD_PATH = "/files/download";

/** An error body larger than this is not read (the agent's are a few hundred bytes). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** What to download. `user` '' means the agent's default (root). */
export interface AgentDownloadRequest {
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
  async download(req: AgentDownloadRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(AGENT_FILE_DOWNLOAD_PATH, this.#baseUrl);
    url.searchParams.set("sandbox_id", req.sandboxId);
    url.searchParams.set("path", req.path);
    if (req.user !== "") url.searchParams.set("user", req.user);
    const res = await this.#get(url, signal);
    if (res.statusCode === 200) return res;
    throw await errorFrom(res);
  }

  #get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: this.#agent, signal });
      req.once("response", resolve);
      req.once("error", (err) => {
        if (signal.aborted)
          reject(new ConnectError("the download was canceled", Code.Canceled, undefined, undefined, err));
        else reject(new ConnectError("host agent unreachable", Code.Unavailable, undefined, undefined, err));
      });
      req.end();
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
