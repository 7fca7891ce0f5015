/**
 * A lean server path for the Connect unary calls the control plane makes (binary format, no
 * compression): measured on this project's machine, connect-node's general handler spends
 * most of a small call's server time on per-call machinery a unary binary call does not
 * need — three AbortControllers aborted after every call (each abort builds a DOMException and
 * dispatches an event: 25–40 µs apiece here), web `Headers` copies of the request, response
 * and trailers, and async-iterable plumbing for a one-message body. This path reads the body,
 * decodes it, calls the same service implementation and answers exactly as Connect's unary
 * protocol says (status, content type, error JSON via Connect's own helpers). Everything else
 * — JSON, compressed bodies, GET, streams, gRPC(-web), bad protocol versions — goes to
 * connect-node unchanged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { create, type DescMethod, type DescMethodUnary, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes, parseTimeout, trailerMux } from "@connectrpc/connect/protocol-connect";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;
type UnaryFn = (req: unknown, ctx: HandlerContext) => Promise<unknown>;
interface Route {
  readonly method: DescMethodUnary;
  readonly impl: UnaryFn;
}

/** connect-node's default request-body limit, kept so both paths refuse the same bodies. */
const READ_MAX_BYTES = 0xffffffff;
/** connect-node's default: no upper bound on Connect-Timeout-Ms. */
const MAX_TIMEOUT_MS = 0;

/**
 * Wraps `fallback` (the connect-node handler of the same `service`) so that unary calls in
 * Connect's binary format skip connect-node's general machinery. The answer on the wire is
 * the same either way.
 */
export function withUnaryFastPath(
  service: Partial<ServiceImpl<typeof HostAgentService>>,
  fallback: NodeHandler,
): NodeHandler {
  const routes = new Map<string, Route>();
  for (const method of HostAgentService.methods) {
    const impl = (service as Record<string, unknown>)[method.localName];
    if (!isUnary(method) || typeof impl !== "function") continue;
    routes.set(`/${HostAgentService.typeName}/${method.name}`, { method, impl: impl.bind(service) as UnaryFn });
  }
  return (req, res) => {
    const route = req.method === "POST" ? routes.get(req.url ?? "") : undefined;
    const h = req.headers;
    if (
      !route ||
      h["content-type"] !== "application/proto" ||
      (h["content-encoding"] !== undefined && h["content-encoding"] !== "identity") ||
      (h["connect-protocol-version"] !== undefined && h["connect-protocol-version"] !== "1")
    ) {
      fallback(req, res);
      return;
    }
    const timeout = parseTimeout(headerValue(h["connect-timeout-ms"]), MAX_TIMEOUT_MS);
    if (timeout.error) {
      fallback(req, res); // connect-node words the refusal
      return;
    }
    void serveUnary(route, req, res, timeout.timeoutMs).catch((err: unknown) => res.destroy(err as Error));
  };
}

function isUnary(m: DescMethod): m is DescMethodUnary {
  return m.methodKind === "unary";
}

function headerValue(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
}

async function serveUnary(
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  timeoutMs: number | undefined,
): Promise<void> {
  const ctx = new UnaryContext(route.method, req, timeoutMs);
  // The caller hung up before the answer: what the handler still runs is cancelled.
  const onClose = () => {
    if (!res.writableEnded) ctx.abort(new ConnectError("the client disconnected", Code.Canceled));
  };
  res.once("close", onClose);
  let status = 200;
  let body: Uint8Array;
  let contentType = "application/proto";
  try {
    const input = parseInput(route.method, await readBody(req));
    const output = await route.impl(input, ctx);
    const message = isMessage(output, route.method.output) ? output : create(route.method.output, output as never);
    body = toBinary(route.method.output, message);
  } catch (err) {
    // As connect-node: a ConnectError keeps its code, anything else is an opaque internal error.
    const error =
      err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
    status = codeToHttpStatus(error.code);
    contentType = "application/json";
    error.metadata.forEach((value, key) => {
      ctx.responseHeader.set(key, value);
    });
    body = errorToJsonBytes(error, {});
  } finally {
    ctx.done();
  }
  res.off("close", onClose);
  const headers: Record<string, string> = {};
  if (ctx.touchedHeaders) {
    trailerMux(ctx.responseHeader, ctx.responseTrailer).forEach((value, key) => {
      headers[key] = value;
    });
  }
  headers["content-type"] = contentType;
  headers["content-length"] = String(body.byteLength);
  res.writeHead(status, headers);
  res.end(body);
}

function parseInput(method: DescMethodUnary, bytes: Uint8Array) {
  try {
    return fromBinary(method.input, bytes);
  } catch (e) {
    // connect-node's wording and code for an undecodable body.
    throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
  }
}

/** The whole request body (events rather than an async iterator: one promise per call). */
function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > READ_MAX_BYTES) {
        req.destroy();
        reject(
          new ConnectError(
            `message size is larger than configured readMaxBytes ${READ_MAX_BYTES}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size)));
    req.once("error", reject);
    // A client that hangs up mid-body: 'aborted' then 'close' without 'end'.
    req.once("close", () => {
      if (!req.complete) reject(new ConnectError("the client disconnected", Code.Canceled));
    });
  });
}

/**
 * A HandlerContext whose costly parts are made only when a handler reads them: the web
 * `Headers` of the request, response and trailers. Its signal aborts on the deadline and when
 * the client hangs up, not at the end of every call (nothing listens for that: the
 * handlers' downstream calls have ended once they return).
 */
class UnaryContext implements HandlerContext {
  readonly service = HostAgentService;
  readonly requestMethod = "POST";
  readonly protocolName = "connect";
  readonly values = createContextValues();
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #req: IncomingMessage;
  readonly #deadline: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #requestHeader: Headers | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;

  constructor(
    readonly method: DescMethodUnary,
    req: IncomingMessage,
    timeoutMs: number | undefined,
  ) {
    this.#req = req;
    this.signal = this.#controller.signal;
    if (timeoutMs !== undefined) {
      this.#deadline = Date.now() + timeoutMs;
      this.#timer = setTimeout(
        () => this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)),
        timeoutMs,
      );
    }
  }

  get url(): string {
    const host = this.#req.headers.host ?? "localhost";
    const tls = "encrypted" in this.#req.socket && this.#req.socket.encrypted === true;
    return `${tls ? "https" : "http"}://${host}${this.#req.url ?? ""}`;
  }

  timeoutMs = (): number | undefined => (this.#deadline === undefined ? undefined : this.#deadline - Date.now());

  get requestHeader(): Headers {
    if (!this.#requestHeader) {
      const headers = new Headers();
      for (const [key, value] of Object.entries(this.#req.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
      }
      this.#requestHeader = headers;
    }
    return this.#requestHeader;
  }

  get responseHeader(): Headers {
    if (!this.#responseHeader) this.#responseHeader = new Headers();
    return this.#responseHeader;
  }

  get responseTrailer(): Headers {
    if (!this.#responseTrailer) this.#responseTrailer = new Headers();
    return this.#responseTrailer;
  }

  /** Whether a handler (or an error's metadata) may have set response headers or trailers. */
  get touchedHeaders(): boolean {
    return this.#responseHeader !== undefined || this.#responseTrailer !== undefined;
  }

  abort(reason: unknown): void {
    this.done();
    if (!this.signal.aborted) this.#controller.abort(reason);
  }

  /** Stops the deadline timer (the call is answered). */
  done(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
