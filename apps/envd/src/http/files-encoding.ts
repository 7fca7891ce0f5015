/** A content coding envd can produce or accept for file bodies. */
export type FileEncoding = "identity" | "gzip";

/**
 * Picks the response coding from an `Accept-Encoding` header, as E2B envd
 * does: gzip when the client names it with a quality at least that of an
 * explicitly listed identity, else identity (`*` alone means identity).
 * Identity is acceptable unless the header rejects it (`identity;q=0`, or
 * `*;q=0` without listing identity), in which case `*` allows gzip. With
 * `preferIdentity` (range and conditional requests, already-compressed
 * files) identity wins whenever it is acceptable at all. Returns undefined when neither is acceptable (HTTP
 * 406). No header means identity.
 */
export function negotiateEncoding(
  header: string | undefined,
  opts: { preferIdentity?: boolean } = {},
): FileEncoding | undefined {
  if (header === undefined) return "identity";
  const q = new Map<string, number>();
  for (const item of header.split(",")) {
    const [rawName = "", ...params] = item.split(";");
    const name = rawName.trim().toLowerCase();
    if (name === "") continue;
    let quality = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (m?.[1] !== undefined) quality = Number(m[1]);
    }
    if (!Number.isFinite(quality)) quality = 0;
    if (!q.has(name)) q.set(name, quality);
  }
  const star = q.get("*");
  const gzip = q.get("gzip") ?? q.get("x-gzip");
  // Unlisted identity is the fallback, not a competitor: "gzip;q=0.5" still means gzip.
  const identity = q.get("identity") ?? star;
  const identityOk = (identity ?? 1) > 0;
  if (opts.preferIdentity && identityOk) return "identity";
  if (gzip !== undefined && gzip > 0 && gzip >= (identity ?? 0)) return "gzip";
  if (identityOk) return "identity";
  if ((gzip ?? star ?? 0) > 0) return "gzip";
  return undefined;
}

/**
 * The coding of a request body from its `Content-Encoding` header: identity
 * when absent, gzip for gzip/x-gzip; undefined for anything else (HTTP 400).
 */
export function requestBodyEncoding(header: string | undefined): FileEncoding | undefined {
  const value = (header ?? "").trim().toLowerCase();
  if (value === "" || value === "identity") return "identity";
  if (value === "gzip" || value === "x-gzip") return "gzip";
  return undefined;
}
