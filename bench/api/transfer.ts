import { request } from "node:http";
import { Readable } from "node:stream";
import { rssWatch } from "../../e2e/big-file.js";

/** A timed transfer and how much the control plane's RSS grew meanwhile (it runs in this process). */
export interface TransferResult {
  readonly ms: number;
  readonly rssGrowthMiB: number;
}

function zeros(bytes: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** Streams `bytes` to `url`, as a multipart `path`+`file` body (the API) or raw octets (envd). */
export function uploadBytes(
  url: string,
  bytes: number,
  kind: "multipart" | "octet",
  headers: Record<string, string>,
): Promise<TransferResult> {
  const boundary = "wrennbenchboundary";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n/root/bench.bin\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const stopWatch = rssWatch();
  const start = performance.now();
  return new Promise<TransferResult>((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": kind === "multipart" ? `multipart/form-data; boundary=${boundary}` : "application/octet-stream",
        "content-length": String(kind === "multipart" ? head.length + bytes + tail.length : bytes),
      },
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => {
        const rssGrowthMiB = stopWatch();
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`upload to ${url}: HTTP ${res.statusCode}`));
        else resolve({ ms: performance.now() - start, rssGrowthMiB });
      });
    });
    req.on("error", (err) => {
      stopWatch();
      reject(new Error(`upload to ${url}: ${err.message}`, { cause: err }));
    });
    if (kind === "multipart") req.write(head);
    const body = zeros(bytes);
    body.on("end", () => req.end(kind === "multipart" ? tail : undefined));
    body.pipe(req, { end: false });
  });
}

/** Downloads `url` to nowhere (POST with `body` when given, else GET). */
export function downloadBytes(
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<TransferResult> {
  const stopWatch = rssWatch();
  const start = performance.now();
  return new Promise<TransferResult>((resolve, reject) => {
    const req = request(url, { method: body === undefined ? "GET" : "POST", headers });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => {
        const rssGrowthMiB = stopWatch();
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`download from ${url}: HTTP ${res.statusCode}`));
        else resolve({ ms: performance.now() - start, rssGrowthMiB });
      });
    });
    req.on("error", (err) => {
      stopWatch();
      reject(err);
    });
    req.end(body);
  });
}
