import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";

function nodeHeaders(headers: ConstructorParameters<typeof Headers>[0] | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (headers) for (const [key, value] of new Headers(headers)) out[key] = value;
  return out;
}

/** Writes one chunk, resolving once the response can take more (drain) and rejecting on error. */
function writeChunk(res: ServerResponse, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.errored) return reject(res.errored);
    const onError = (err: Error) => {
      res.off("drain", onDrain);
      reject(err);
    };
    const onDrain = () => {
      res.off("error", onError);
      resolve();
    };
    res.once("error", onError);
    res.once("drain", onDrain);
    if (res.write(data)) onDrain();
  });
}

/**
 * Sends a Connect handler's response over Node's HTTP/1.1 server.
 *
 * Why not connect-node's `universalResponseToNodeResponse`: it waits for
 * 'drain' or 'error' after a write, and an HTTP/1.1 ServerResponse whose
 * client vanished emits neither — only 'close'. The write then never
 * settles, the handler's stream generator stays suspended at its `yield`
 * forever, and its `finally` (which stops keepalive timers, releases process
 * subscriptions and inotify watches) never runs: one leak per abandoned
 * stream. Here a write also ends when the connection closes, and the body
 * iterator is always returned so the handler cleans up.
 */
export async function writeUniversalResponse(uRes: UniversalServerResponse, res: ServerResponse): Promise<void> {
  const it = uRes.body?.[Symbol.asyncIterator]();
  let onClose: (() => void) | undefined;
  const closed = new Promise<never>((_, reject) => {
    onClose = () => reject(new ConnectError("client closed the connection", Code.Canceled));
    res.once("close", onClose);
  });
  closed.catch(() => {});
  try {
    if (it !== undefined) {
      let chunk = await it.next();
      // Headers go out after the first read so the handler can still set them.
      res.writeHead(uRes.status, nodeHeaders(uRes.header));
      for (; chunk.done !== true; chunk = await it.next()) {
        await Promise.race([writeChunk(res, chunk.value), closed]);
      }
    }
    if (!res.headersSent) res.writeHead(uRes.status, nodeHeaders(uRes.header));
    if (uRes.trailer) res.addTrailers(nodeHeaders(uRes.trailer));
    res.end();
  } catch (err) {
    if (!res.writableEnded) res.destroy();
    // Tell the handler its stream failed, so it can stop producing.
    await it?.throw?.(err).catch(() => undefined);
  } finally {
    if (onClose) res.off("close", onClose);
    await it?.return?.().catch(() => undefined);
  }
}
