import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

// RFC 9110 §7.6.1 connection-specific fields plus the legacy ones every proxy drops.
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
 * Copies headers minus hop-by-hop fields, including any the `Connection` header names.
 * Node re-adds framing (`transfer-encoding`/`connection`) for each leg itself.
 */
export function stripHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ""),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Facts about the client leg the upstream request should carry. */
export interface ForwardedInfo {
  readonly clientAddress: string | undefined;
  readonly internalHost: string;
}

/**
 * Headers for the upstream request: hop-by-hop removed, `Host` set to the guest
 * address (so servers that build absolute redirects use it and the Location rewrite
 * recognises them), and X-Forwarded-For appended, X-Forwarded-Host/Proto kept from an
 * upstream proxy (the control plane) or filled from this leg.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, info: ForwardedInfo): OutgoingHttpHeaders {
  const out = stripHopByHop(headers);
  const prior = headers["x-forwarded-for"];
  const priorText = Array.isArray(prior) ? prior.join(", ") : prior;
  if (info.clientAddress !== undefined)
    out["x-forwarded-for"] = priorText ? `${priorText}, ${info.clientAddress}` : info.clientAddress;
  out["x-forwarded-host"] = headers["x-forwarded-host"] ?? headers.host ?? info.internalHost;
  out["x-forwarded-proto"] = headers["x-forwarded-proto"] ?? "http";
  out.host = info.internalHost;
  return out;
}
