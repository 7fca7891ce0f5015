/**
 * Firecracker's REST API over its unix socket: JSON in, 204 or JSON out, errors as
 * `{"fault_message": "..."}` turned into a FirecrackerApiError that names the call.
 */
import { request } from "node:http";
import type { FcRequest } from "./fc-requests.js";

/** A non-2xx answer from Firecracker (or an unparsable one). */
export class FirecrackerApiError extends Error {
  override name = "FirecrackerApiError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** Firecracker's `fault_message`, or the raw body when it sent none. */
    readonly faultMessage: string,
  ) {
    super(`firecracker ${method} ${path} failed with ${status}: ${faultMessage}`);
  }
}

/** Options for one client. */
export interface FcApiClientOptions {
  /** Per-call limit; the reference used 10 s. @default 10_000 */
  readonly timeoutMs?: number;
}

/** Largest response body we keep; Firecracker's answers are tiny. */
const MAX_BODY = 1024 * 1024;

/** Talks to one Firecracker process through `socketPath`. */
export class FcApiClient {
  readonly #timeoutMs: number;

  constructor(
    readonly socketPath: string,
    opts: FcApiClientOptions = {},
  ) {
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Sends `req`; resolves with the parsed JSON body (undefined for 204), rejects on any non-2xx. */
  send(req: FcRequest, signal?: AbortSignal): Promise<unknown> {
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    return new Promise((resolve, reject) => {
      if (combined.aborted) {
        reject(combined.reason);
        return;
      }
      const headers: Record<string, string | number> = { Accept: "application/json" };
      if (payload !== undefined) {
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = Buffer.byteLength(payload);
      }
      const clientReq = request(
        // A fresh connection per call: Firecracker serves one request at a time and the
        // socket dies with the process, so pooling buys nothing and risks stale sockets.
        { socketPath: this.socketPath, method: req.method, path: req.path, headers, agent: false, signal: combined },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size <= MAX_BODY) chunks.push(c);
          });
          res.on("error", reject);
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString("utf8");
            if (status >= 200 && status < 300) {
              if (text.trim() === "") return resolve(undefined);
              try {
                resolve(JSON.parse(text));
              } catch {
                reject(new FirecrackerApiError(req.method, req.path, status, `unparsable body: ${text.slice(0, 200)}`));
              }
              return;
            }
            reject(new FirecrackerApiError(req.method, req.path, status, faultMessageOf(text)));
          });
        },
      );
      clientReq.on("error", (err) => reject(combined.aborted ? combined.reason : err));
      clientReq.end(payload);
    });
  }

  /** Sends each request in order, stopping at the first failure. */
  async sendAll(reqs: readonly FcRequest[], signal?: AbortSignal): Promise<void> {
    for (const r of reqs) await this.send(r, signal);
  }
}

/** Extracts `fault_message` from an error body; falls back to the raw text. */
function faultMessageOf(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "fault_message" in parsed) {
      const msg = (parsed as { fault_message: unknown }).fault_message;
      if (typeof msg === "string") return msg;
    }
  } catch {
    // not JSON: report it raw below
  }
  return text.trim().slice(0, 500) || "(empty body)";
}
