import { type Agent, type IncomingMessage, type OutgoingHttpHeaders, request } from "node:http";
import type { Readable } from "node:stream";

/** One plain HTTP call to envd. */
export interface EnvdHttpCall {
  readonly agent: Agent;
  readonly url: URL;
  readonly method: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
}

const STALE_SOCKET_CODES = new Set(["ECONNRESET", "EPIPE"]);

/**
 * Sends a request and resolves with the response head (body unread). If a *reused*
 * keep-alive socket turns out to be dead (the peer closed it while it idled in the pool,
 * e.g. across a snapshot restore) and the body can be replayed, the call is retried once
 * on a fresh socket instead of failing: that is the "stale pooled connection" case.
 */
export async function envdRequest(call: EnvdHttpCall): Promise<IncomingMessage> {
  try {
    return await once(call);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
    const replayable = call.body === undefined || Buffer.isBuffer(call.body);
    if (e.reusedSocket === true && replayable && e.code !== undefined && STALE_SOCKET_CODES.has(e.code)) {
      return once(call);
    }
    throw err;
  }
}

function once(call: EnvdHttpCall): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(call.url, {
      agent: call.agent,
      method: call.method,
      headers: call.headers,
      ...(call.signal ? { signal: call.signal } : {}),
    });
    req.once("response", resolve);
    // `on`, not `once`: a request aborted after its answer arrived (an upload refused early)
    // errors again, and an error event without a listener would crash the agent.
    req.on("error", (err: Error) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    const body = call.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** Reads a whole (small) response body as text. */
export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
