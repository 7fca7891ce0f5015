/**
 * Rewrites an upstream `Location` so the browser stays under `/proxy/{id}/{port}`:
 * a root-relative `/x` becomes `{prefix}/x`; an absolute (or scheme-relative) URL
 * pointing at the internal `guestIp:port` becomes `{prefix}` + its path, query and
 * fragment. Relative paths (already resolved against the prefixed URL by the browser)
 * and URLs to other hosts are returned unchanged.
 */
export function rewriteLocation(location: string, prefix: string, internalHost: string): string {
  if (location.startsWith("/") && !location.startsWith("//")) return prefix + location;
  let url: URL;
  try {
    // The base only matters for scheme-relative values such as `//10.0.0.2:8080/x`.
    url = new URL(location, "http://base.invalid");
  } catch {
    return location;
  }
  const isAbsolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(location) || location.startsWith("//");
  if (!isAbsolute || (url.protocol !== "http:" && url.protocol !== "https:")) return location;
  if (hostWithPort(url) !== internalHost) return location;
  return prefix + url.pathname + url.search + url.hash;
}

// URL drops the default port, but the guest is addressed with an explicit one.
function hostWithPort(url: URL): string {
  if (url.port !== "") return url.host;
  return `${url.hostname}:${url.protocol === "https:" ? 443 : 80}`;
}
