import type { IncomingHttpHeaders } from "node:http";

/** Validators of one file version, as sent in ETag and Last-Modified. */
export interface FileValidators {
  readonly etag: string;
  /** Modification time in whole seconds (HTTP dates have no finer resolution). */
  readonly mtimeSeconds: number;
}

/** Whether the request carries any header that makes it conditional or partial. */
export function isConditionalOrPartial(headers: IncomingHttpHeaders): boolean {
  return (
    headers.range !== undefined ||
    headers["if-range"] !== undefined ||
    headers["if-none-match"] !== undefined ||
    headers["if-modified-since"] !== undefined
  );
}

/**
 * Whether a GET/HEAD can be answered with 304 Not Modified (RFC 9110 §13.2.2:
 * If-None-Match wins over If-Modified-Since; weak comparison for both).
 */
export function isNotModified(headers: IncomingHttpHeaders, v: FileValidators): boolean {
  const inm = headers["if-none-match"];
  if (inm !== undefined) return inm.trim() === "*" || listedTags(inm).some((tag) => opaque(tag) === opaque(v.etag));
  const ims = headers["if-modified-since"];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && v.mtimeSeconds * 1000 <= since;
}

/**
 * Whether a Range request may be honoured: without If-Range always; with it
 * only if it names this exact version (strong ETag match or the same date).
 * Otherwise the whole file is sent, so a client resuming a download never
 * splices bytes of two different versions.
 */
export function rangeStillValid(headers: IncomingHttpHeaders, v: FileValidators): boolean {
  const ifRange = single(headers["if-range"])?.trim();
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith("W/")) return ifRange === v.etag;
  const at = Date.parse(ifRange);
  return !Number.isNaN(at) && at === v.mtimeSeconds * 1000;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function listedTags(header: string): string[] {
  return header
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

function opaque(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}
