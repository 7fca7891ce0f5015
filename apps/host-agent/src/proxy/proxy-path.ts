/** A parsed `/proxy/{sandboxId}/{port}/...` request target. */
export interface ProxyTarget {
  readonly sandboxId: string;
  readonly port: number;
  /** `/proxy/{sandboxId}/{port}`, the prefix the browser sees. */
  readonly prefix: string;
  /** Path and query to send upstream, always starting with `/`. */
  readonly upstreamPath: string;
}

/** Result of parsing a request URL: a target, not ours at all, or a bad id/port. */
export type ParsedProxyPath =
  | { readonly kind: "target"; readonly target: ProxyTarget }
  | { readonly kind: "not-proxy" }
  | { readonly kind: "invalid"; readonly message: string };

// Sandbox ids are opaque but never need more than this; anything else is rejected
// before it reaches a resolver, a cache key or a log line.
const SANDBOX_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Parses a request target of the form `/proxy/{sandboxId}/{port}[/rest][?query]`.
 * The remainder is kept byte for byte (string concatenation, no normalisation) so a
 * trailing slash survives: normalising `/sub/` to `/sub` makes python's http.server
 * redirect back to `/sub/` forever.
 */
export function parseProxyPath(url: string): ParsedProxyPath {
  if (!url.startsWith("/proxy/")) return { kind: "not-proxy" };
  const q = url.indexOf("?");
  const pathPart = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? "" : url.slice(q);
  const afterPrefix = pathPart.slice("/proxy/".length);
  const idEnd = afterPrefix.indexOf("/");
  if (idEnd === -1) return { kind: "invalid", message: "the path must be /proxy/{sandboxId}/{port}/..." };
  const sandboxId = afterPrefix.slice(0, idEnd);
  const rest = afterPrefix.slice(idEnd + 1);
  const portEnd = rest.indexOf("/");
  const portText = portEnd === -1 ? rest : rest.slice(0, portEnd);
  const remainder = portEnd === -1 ? "" : rest.slice(portEnd);
  if (!SANDBOX_ID.test(sandboxId)) return { kind: "invalid", message: "the sandbox id is malformed" };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535)
    return { kind: "invalid", message: "the port must be a number from 1 to 65535" };
  const prefix = `/proxy/${sandboxId}/${port}`;
  const upstreamPath = (remainder === "" ? "/" : remainder) + query;
  return { kind: "target", target: { sandboxId, port, prefix, upstreamPath } };
}
