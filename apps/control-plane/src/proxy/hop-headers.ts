import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Copies headers minus the hop-by-hop ones (RFC 9110 §7.6.1), including any
 * the `Connection` header names. With `keepUpgrade`, `Connection: upgrade` and
 * `Upgrade` survive so a WebSocket handshake can be forwarded.
 */
export function endToEndHeaders(headers: IncomingHttpHeaders, keepUpgrade = false): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ""),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  if (keepUpgrade && headers.upgrade !== undefined) {
    out["connection"] = "upgrade";
    out["upgrade"] = headers.upgrade;
  }
  return out;
}
