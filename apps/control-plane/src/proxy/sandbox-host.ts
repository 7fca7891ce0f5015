/** A request addressed to a capsule's port through the subdomain proxy. */
export interface SandboxHostTarget {
  readonly port: number;
  readonly sandboxId: string;
}

/** Why a proxy host name was refused. */
export type SandboxHostError = "bad_port" | "bad_id";

const HOST = /^(\d{1,6})-(cl-[0-9a-z]+)\.(.+)$/;
const ID_BODY = /^cl-[0-9a-z]{25}$/;

/**
 * Reads `{port}-{capsuleId}.{domain}[:listenPort]` from a Host header.
 * Returns `undefined` when the host is not a proxy host for `domain` (the
 * request is the API's), or an error when it is one but malformed.
 */
export function parseSandboxHost(
  hostHeader: string | undefined,
  domain: string,
): SandboxHostTarget | { error: SandboxHostError } | undefined {
  if (hostHeader === undefined) return undefined;
  const host = hostHeader.toLowerCase().replace(/:\d+$/, "");
  const m = HOST.exec(host);
  if (m === null || m[3] !== domain) return undefined;
  const port = Number(m[1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: "bad_port" };
  const sandboxId = m[2] ?? "";
  if (!ID_BODY.test(sandboxId)) return { error: "bad_id" };
  return { port, sandboxId };
}

/** The agent path for a proxied request: string concatenation keeps trailing slashes (seed fix 7). */
export function agentProxyPath(target: SandboxHostTarget, requestUrl: string): string {
  const url = requestUrl.startsWith("/") ? requestUrl : `/${requestUrl}`;
  return `/proxy/${target.sandboxId}/${target.port}${url}`;
}

/**
 * Strips the agent's `/proxy/{id}/{port}` prefix from a redirect so the
 * browser, which is at `{port}-{id}.{domain}`, stays on the capsule's host
 * (seed fix 6). Absolute URLs and other paths pass unchanged.
 */
export function stripProxyPrefix(location: string, target: SandboxHostTarget): string {
  const prefix = `/proxy/${target.sandboxId}/${target.port}`;
  if (location === prefix) return "/";
  if (location.startsWith(`${prefix}/`) || location.startsWith(`${prefix}?`)) {
    const rest = location.slice(prefix.length);
    return rest.startsWith("?") ? `/${rest}` : rest;
  }
  return location;
}
