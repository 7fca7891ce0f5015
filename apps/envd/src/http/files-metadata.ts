import type { IncomingMessage } from "node:http";
import { METADATA_XATTR_PREFIX } from "../filesystem/metadata.js";
import { FilesHttpError } from "./files-errors.js";

const HEADER_PREFIX = "x-metadata-";
/** The kernel's 255-byte xattr name limit minus the `user.e2b.` prefix. */
const MAX_KEY_BYTES = 255 - METADATA_XATTR_PREFIX.length;
/** Per-file budget (keys with prefix plus values), to stay inside one inode's xattr space. */
const MAX_TOTAL_BYTES = 4096;
const PRINTABLE = /^[\x20-\x7e]*$/;

/**
 * Collects `X-Metadata-<key>: <value>` request headers into the metadata map
 * an upload stores on its files (key lower-cased, as HTTP header names are
 * case-insensitive). A repeated header keeps its first value; an empty key is
 * ignored. Throws FilesHttpError(400) for non-printable ASCII, a key over 246
 * bytes, or more than 4096 bytes in total.
 */
export function parseMetadataHeaders(req: IncomingMessage): Record<string, string> {
  // A Map, then fromEntries: assigning a key like "__proto__" to a plain object would not create a property.
  const metadata = new Map<string, string>();
  let total = 0;
  // headersDistinct keeps repeated headers apart; `headers` would join them with ", ".
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!name.startsWith(HEADER_PREFIX)) continue;
    const key = name.slice(HEADER_PREFIX.length);
    const value = values?.[0];
    if (key === "" || value === undefined || metadata.has(key)) continue;
    if (!PRINTABLE.test(key) || !PRINTABLE.test(value)) {
      throw new FilesHttpError(400, "metadata keys and values must be printable US-ASCII");
    }
    if (key.length > MAX_KEY_BYTES) throw new FilesHttpError(400, `metadata key is longer than ${MAX_KEY_BYTES} bytes`);
    total += METADATA_XATTR_PREFIX.length + key.length + value.length;
    if (total > MAX_TOTAL_BYTES)
      throw new FilesHttpError(400, `metadata is larger than ${MAX_TOTAL_BYTES} bytes in total`);
    metadata.set(key, value);
  }
  return Object.fromEntries(metadata);
}
