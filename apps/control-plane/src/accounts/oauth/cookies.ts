/**
 * The little cookie handling the OAuth routes need: reading the request's
 * `Cookie` header and writing `Set-Cookie` values. Values are
 * percent-encoded, so a display name or an address can never break out of
 * its cookie.
 */

/** Attributes of a cookie the control plane sets. */
export interface CookieOptions {
  /** @default "/" */
  readonly path?: string;
  /** Lifetime in seconds; 0 deletes the cookie. */
  readonly maxAgeSeconds: number;
  /** Hidden from scripts. The dashboard must read the short-lived sign-in cookies, so those are not. */
  readonly httpOnly: boolean;
  /** Sent only over HTTPS (set when the request came over TLS). */
  readonly secure: boolean;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest `Cookie` header parsed; more is ignored (browsers send at most a few KiB). */
const MAX_HEADER = 16 * 1024;

/** One `Set-Cookie` value (SameSite=Lax: sent on the top-level redirect back from the provider). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  if (!NAME_RE.test(name)) throw new TypeError("serializeCookie: invalid cookie name");
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path ?? "/"}`];
  parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`);
  if (options.maxAgeSeconds <= 0) parts.push("Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  if (options.httpOnly) parts.push("HttpOnly");
  parts.push("SameSite=Lax");
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** A `Set-Cookie` value that deletes `name` (same path it was set with). */
export function expireCookie(name: string, options: { path?: string; httpOnly: boolean; secure: boolean }): string {
  return serializeCookie(name, "", { ...options, maxAgeSeconds: 0 });
}

/**
 * The cookies of a `Cookie` header, first occurrence of a name winning.
 * Malformed pairs and undecodable values are skipped.
 */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined || header.length > MAX_HEADER) return cookies;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!NAME_RE.test(name) || cookies.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      // A value that is not valid percent-encoding was not set by us.
    }
  }
  return cookies;
}
