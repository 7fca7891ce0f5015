import { readdir } from "node:fs/promises";
import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from "node:http";

/** POSTs `body` as application/octet-stream (extra headers win) through fetch. @internal */
export async function uploadOctet(
  url: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/octet-stream", ...headers }, body });
}

/** A response read in full by `rawRequest`. @internal */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** `${base}/files?…` with the given query. @internal */
export function filesUrl(base: string, query: Record<string, string> = {}): string {
  const url = new URL("/files", base);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.toString();
}

/**
 * One request through node:http, which (unlike fetch) neither decodes gzip
 * nor adds headers, so tests see exactly what envd sent. @internal
 */
export async function rawRequest(
  url: string,
  opts: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/**
 * Starts an upload declaring `declaredLength` bytes, sends only `prefix`,
 * waits until `ready()` holds (e.g. envd's temp file exists) and then
 * destroys the socket, as a client that crashes mid-upload would. @internal
 */
export async function abortUploadMidway(
  url: string,
  opts: { headers: OutgoingHttpHeaders; declaredLength: number; prefix: Buffer; ready: () => Promise<boolean> },
): Promise<void> {
  const req = request(url, {
    method: "POST",
    headers: { ...opts.headers, "content-length": opts.declaredLength },
    agent: false,
  });
  req.on("error", () => {}); // the reset we cause
  req.write(opts.prefix);
  const deadline = Date.now() + 5000;
  while (!(await opts.ready())) {
    if (Date.now() > deadline) throw new Error("upload never reached the server");
    await new Promise((r) => setTimeout(r, 5));
  }
  req.destroy();
}

/** A part of a multipart/form-data body built by `multipartBody`. @internal */
export interface Part {
  readonly name: string;
  readonly filename?: string;
  readonly data: Buffer | string;
}

/** A multipart/form-data body; `complete: false` leaves off the closing boundary. @internal */
export function multipartBody(boundary: string, parts: readonly Part[], opts: { complete?: boolean } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? "" : `; filename="${part.filename}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n` +
          "Content-Type: application/octet-stream\r\n\r\n",
      ),
      Buffer.from(part.data),
      Buffer.from("\r\n"),
    );
  }
  if (opts.complete !== false) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Names of upload temp files (`.<name>.<hex>.upload`) in `dir`. @internal */
export async function uploadTemps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(".upload"));
}

/** Polls an async condition until it holds (envd cleans up after a hang-up with no event a test can await). @internal */
export async function eventually(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
