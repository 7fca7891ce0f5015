/** An inclusive byte range inside a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Parses a `Range` header for a file of `size` bytes. Returns undefined when
 * the header should be ignored and the whole file served (absent, not
 * `bytes`, malformed, or several ranges: RFC 9110 lets a server ignore Range,
 * and one range is all clients of this API use), "unsatisfiable" for a 416,
 * or the range to send.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const lastByte = last === "" ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(lastByte) || lastByte < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(lastByte, size - 1) };
}
