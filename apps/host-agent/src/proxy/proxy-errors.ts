import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/** An error answer of the port proxy, in the platform's `{ code, reason, message }` shape. */
export interface ProxyErrorBody {
  readonly status: number;
  readonly code: string;
  readonly reason: string;
  readonly message: string;
}

/** 400: malformed sandbox id or port. */
export const badPath = (message: string): ProxyErrorBody => ({
  status: 400,
  code: "invalid_argument",
  reason: "invalid_proxy_target",
  message,
});
/** 404: the sandbox is not running on this host. */
export const unknownSandbox = (): ProxyErrorBody => ({
  status: 404,
  code: "not_found",
  reason: "sandbox_not_found",
  message: "no running sandbox with this id on this host",
});
/** 503: the sandbox is paused (its processes are frozen or saved to disk). */
export const sandboxPaused = (): ProxyErrorBody => ({
  status: 503,
  code: "unavailable",
  reason: "sandbox_paused",
  message: "the sandbox is paused; resume it to reach its ports",
});
/** 502: nothing answered on the guest port after the dial retries. */
export const unreachable = (port: number): ProxyErrorBody => ({
  status: 502,
  code: "unavailable",
  reason: "port_unreachable",
  message: `nothing answered on port ${port} in the sandbox; is a server listening on 0.0.0.0:${port}?`,
});

/** 404: the proxy thread's listener serves only `/proxy/{sandboxId}/{port}/...`. */
export const routeNotFound = (): ProxyErrorBody => ({
  status: 404,
  code: "not_found",
  reason: "route_not_found",
  message: "this listener serves only /proxy/{sandboxId}/{port}/...",
});

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  404: "Not Found",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Writes the error as JSON unless headers already went out (then the stream is cut). */
export function sendProxyError(res: ServerResponse, e: ProxyErrorBody): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ code: e.code, reason: e.reason, message: e.message });
  res.writeHead(e.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Same answer on a raw socket (failed WebSocket upgrade), then closes it. */
export function sendProxyErrorRaw(socket: Duplex, e: ProxyErrorBody): void {
  const body = JSON.stringify({ code: e.code, reason: e.reason, message: e.message });
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_TEXT[e.status] ?? "Error"}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
