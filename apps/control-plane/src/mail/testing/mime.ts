/**
 * A small MIME reader for tests: enough of RFC 5322 / 2045-2047 to assert on
 * what an SMTP client really sent — unfolded headers, encoded words,
 * multipart trees, quoted-printable and base64 bodies (UTF-8).
 */

/** One MIME entity: a whole message or one part of a multipart body. */
export interface ParsedMime {
  /** Header values by lowercase name, in order, unfolded but not decoded. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /** The media type in lowercase, e.g. `text/plain`; `text/plain` when absent. */
  readonly contentType: string;
  /** Sub-parts for `multipart/*`, else empty. */
  readonly parts: readonly ParsedMime[];
  /** The decoded body for leaf parts (empty for multiparts). */
  readonly body: string;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) in a header value. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, encoding: string, text: string) => {
      if (encoding.toUpperCase() === "B") return Buffer.from(text, "base64").toString("utf8");
      const bytes = text
        .replace(/_/g, " ")
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
      return Buffer.from(bytes, "latin1").toString("utf8");
    });
}

/** The first value of a header, with encoded words decoded; `undefined` when absent. */
export function headerOf(entity: ParsedMime, name: string): string | undefined {
  const value = entity.headers.get(name.toLowerCase())?.[0];
  return value === undefined ? undefined : decodeEncodedWords(value);
}

/** The first leaf part (depth first) of the given media type, e.g. `text/html`. */
export function findPart(entity: ParsedMime, contentType: string): ParsedMime | undefined {
  if (entity.parts.length === 0) return entity.contentType === contentType ? entity : undefined;
  for (const part of entity.parts) {
    const found = findPart(part, contentType);
    if (found) return found;
  }
  return undefined;
}

function decodeQuotedPrintable(text: string): string {
  const latin1 = text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(latin1, "latin1").toString("utf8");
}

function parameter(headerValue: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(headerValue);
  return m?.[1] ?? m?.[2];
}

/** Parses a raw message (CRLF or LF line ends). */
export function parseMime(raw: string): ParsedMime {
  const text = raw.replace(/\r\n/g, "\n");
  const split = text.indexOf("\n\n");
  const head = split === -1 ? text : text.slice(0, split);
  const rawBody = split === -1 ? "" : text.slice(split + 2);

  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  const typeHeader = headers.get("content-type")?.[0] ?? "text/plain";
  const contentType = (typeHeader.split(";")[0] ?? "").trim().toLowerCase();

  if (contentType.startsWith("multipart/")) {
    const boundary = parameter(typeHeader, "boundary");
    if (!boundary) return { headers, contentType, parts: [], body: "" };
    const sections = rawBody.split(`--${boundary}`);
    // sections[0] is the preamble; the part after the closing "--boundary--" is the epilogue.
    const parts = sections
      .slice(1)
      .filter((s) => !s.startsWith("--"))
      .map((s) => parseMime(s.replace(/^\n/, "").replace(/\n$/, "")));
    return { headers, contentType, parts, body: "" };
  }

  const encoding = (headers.get("content-transfer-encoding")?.[0] ?? "7bit").toLowerCase();
  let body = rawBody;
  if (encoding === "quoted-printable") body = decodeQuotedPrintable(rawBody);
  else if (encoding === "base64") body = Buffer.from(rawBody.replace(/\s+/g, ""), "base64").toString("utf8");
  return { headers, contentType, parts: [], body };
}
