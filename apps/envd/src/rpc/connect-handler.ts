import type { IncomingMessage, ServerResponse } from "node:http";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
} from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { universalRequestFromNodeRequest } from "@connectrpc/connect-node";
import type { Logger } from "@wrenn/kit";
import { writeUniversalResponse } from "./write-response.js";

/** A Node request listener serving Connect routes; returns false when no route matches. */
export type ConnectHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const MAX_ERROR_BODY = 64 * 1024;

/**
 * connect-es reports an undecodable binary request as `internal` (HTTP 500),
 * which blames the server for the client's bytes. Unary error bodies are
 * small JSON; rewrite that one case to `invalid_argument` (HTTP 400).
 */
async function clientDecodeErrorsAsInvalidArgument(uRes: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (uRes.status !== 500 || uRes.body === undefined) return uRes;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of uRes.body) {
    size += chunk.length;
    if (size > MAX_ERROR_BODY) break;
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  try {
    const err = JSON.parse(bytes.toString("utf8")) as { code?: string; message?: string };
    if (err.code === "internal" && typeof err.message === "string" && err.message.startsWith("parse binary:")) {
      const fixed = Buffer.from(JSON.stringify({ code: "invalid_argument", message: err.message }));
      const header = new Headers(uRes.header);
      header.set("content-length", String(fixed.length));
      return { ...uRes, status: 400, header, body: once(fixed) };
    }
  } catch {
    // not a JSON error body: pass it through unchanged
  }
  return { ...uRes, body: once(bytes) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/**
 * Builds the Connect request handler for envd's services: the same as
 * connect-node's adapter, but logging through our Logger instead of
 * console.error and with client decode errors reported as 400.
 */
export function createConnectHandler(opts: {
  routes: (router: ConnectRouter) => void;
  options: ConnectRouterOptions;
  log: Logger;
}): ConnectHandler {
  const router = createConnectRouter(opts.options);
  opts.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const handler = paths.get(path);
    if (!handler) return false;
    const uReq = universalRequestFromNodeRequest(req, res, undefined, undefined);
    handler(uReq)
      .then(clientDecodeErrorsAsInvalidArgument)
      .then((uRes) => writeUniversalResponse(uRes, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        opts.log.warn({ err: reason, rpc: `${handler.service.typeName}/${handler.method.name}` }, "rpc failed");
      });
    return true;
  };
}
