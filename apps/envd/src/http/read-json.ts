import type { IncomingMessage } from "node:http";

/** Thrown for a body that is too large or not valid JSON; carries the HTTP status. */
export class BodyError extends Error {
  override name = "BodyError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a small JSON body (at most `limit` bytes). An empty body yields
 * undefined. Oversized bodies are rejected without buffering the rest.
 */
export async function readJsonBody(req: IncomingMessage, limit = 1 << 20): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw new BodyError(413, "request body too large");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyError(413, "request body too large");
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BodyError(400, "request body is not valid JSON");
  }
}
