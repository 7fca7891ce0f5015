import { type IncomingMessage, request } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "@wrenn/kit";
import { upstreamRequestHeaders } from "./hop-headers.js";
import { rewriteLocation } from "./location-rewrite.js";
import type { UpstreamTarget } from "./port-proxy.js";
import { DIAL_SIGNAL, type ProxyAgent, type ProxyRequestArgs } from "./proxy-agent.js";
import { sendProxyErrorRaw, unreachable } from "./proxy-errors.js";

/** Everything {@link forwardUpgrade} needs. */
export interface UpgradeForward {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly target: UpstreamTarget;
  readonly upstreamPath: string;
  readonly agent: ProxyAgent;
  readonly log: Logger;
}

/**
 * Relays an HTTP upgrade: sends the request upstream with its `Connection`/`Upgrade`
 * headers, relays the 101 answer, then pipes the two raw sockets both ways. A non-101
 * answer (e.g. 404 or a redirect) is relayed as a normal response and the socket closed.
 */
export function forwardUpgrade(f: UpgradeForward): void {
  const { req, socket, head, target } = f;
  const abort = new AbortController();
  const onClientGone = (): void => abort.abort(new Error("client went away"));
  socket.once("close", onClientGone);
  socket.on("error", () => socket.destroy());
  const headers = upstreamRequestHeaders(req.headers, {
    clientAddress: req.socket.remoteAddress,
    internalHost: target.internalHost,
  });
  // Upgrade and Connection are hop-by-hop, but the upgrade itself must be forwarded.
  headers.connection = "Upgrade";
  headers.upgrade = req.headers.upgrade ?? "websocket";
  const options: ProxyRequestArgs = {
    agent: f.agent,
    host: target.guestIp,
    port: target.port,
    method: req.method,
    path: f.upstreamPath,
    headers,
    [DIAL_SIGNAL]: abort.signal,
  };
  const up = request(options);
  abort.signal.addEventListener("abort", () => up.destroy(), { once: true });
  up.on("upgrade", (upRes, upSocket, upHead) => {
    socket.off("close", onClientGone);
    socket.write(statusBlock(upRes, target));
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.on("error", () => socket.destroy());
    socket.on("error", () => upSocket.destroy());
    upSocket.once("close", () => socket.destroy());
    socket.once("close", () => upSocket.destroy());
    upSocket.pipe(socket);
    socket.pipe(upSocket);
  });
  up.on("response", (upRes) => {
    socket.write(statusBlock(upRes, target, true));
    upRes.pipe(socket);
  });
  up.on("error", (err) => {
    if (abort.signal.aborted) return;
    f.log.warn({ sandboxId: target.sandboxId, port: target.port, err: String(err) }, "port proxy upgrade failed");
    sendProxyErrorRaw(socket, unreachable(target.port));
  });
  up.end();
}

/** Status line and headers of an upstream answer, for writing on the raw client socket. */
function statusBlock(res: IncomingMessage, target: UpstreamTarget, closing = false): string {
  const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ""}`];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    let value = raw[i + 1] ?? "";
    const lower = name.toLowerCase();
    if (closing && (lower === "connection" || lower === "keep-alive" || lower === "transfer-encoding")) continue;
    if (lower === "location") value = rewriteLocation(value, target.prefix, target.internalHost);
    lines.push(`${name}: ${value}`);
  }
  // A non-101 body is relayed decoded (Node removed chunking), so it is delimited by close.
  if (closing) lines.push("connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}
