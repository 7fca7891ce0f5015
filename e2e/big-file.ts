/**
 * Streams large files through the /v1 file routes without holding them in
 * memory: the upload is generated chunk by chunk (each chunk numbered, so a
 * lost, repeated or reordered chunk changes the hash), the download is hashed
 * as it arrives. Both report the peak growth of this process's RSS — the
 * control plane runs in this process in the e2e stack, so the number bounds
 * what the control plane buffered.
 */
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";

const CHUNK = 1024 * 1024;

/** What a transfer moved and what it cost in memory. */
export interface BigTransfer {
  readonly bytes: number;
  readonly sha256: string;
  /** Peak RSS growth of this process during the transfer, MiB. */
  readonly peakRssGrowthMiB: number;
}

/** Samples this process's RSS every 20 ms until stopped; returns the peak growth in MiB. */
export function rssWatch(): () => number {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage.rss());
    return (peak - start) / 1048576;
  };
}

/**
 * Uploads `bytes` of generated data as `path` through a streaming multipart
 * route (`path` part first, then `file`), honouring back-pressure. Rejects
 * with the status and body on a non-2xx answer.
 */
export function uploadGenerated(
  url: string,
  headers: Record<string, string>,
  path: string,
  bytes: number,
): Promise<BigTransfer> {
  const boundary = `wrenn-e2e-${randomBytes(8).toString("hex")}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n${path}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const pattern = randomBytes(CHUNK);
  const hash = createHash("sha256");
  const stopWatch = rssWatch();
  return new Promise<BigTransfer>((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": `multipart/form-data; boundary=${boundary}`,
        "content-length": String(head.length + bytes + tail.length),
      },
    });
    req.on("response", (res) => {
      const body: Buffer[] = [];
      res.on("data", (d: Buffer) => body.push(d));
      res.on("end", () => {
        const growth = stopWatch();
        const status = res.statusCode ?? 0;
        if (status >= 300) reject(new Error(`upload: HTTP ${status} ${Buffer.concat(body).toString()}`));
        else resolve({ bytes, sha256: hash.digest("hex"), peakRssGrowthMiB: growth });
      });
    });
    req.on("error", (err) => {
      stopWatch();
      reject(err);
    });
    req.write(head);
    let sent = 0;
    let index = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(CHUNK, bytes - sent);
        const chunk = Buffer.from(pattern.subarray(0, n));
        chunk.writeUInt32BE(index++ >>> 0, 0);
        hash.update(chunk);
        sent += n;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end(tail);
    };
    pump();
  });
}

/** POSTs `json` to a streaming download route and hashes the body as it arrives. */
export function downloadHashed(url: string, headers: Record<string, string>, json: unknown): Promise<BigTransfer> {
  const hash = createHash("sha256");
  const stopWatch = rssWatch();
  return new Promise<BigTransfer>((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { ...headers, "content-type": "application/json" } });
    req.on("response", (res) => {
      let bytes = 0;
      const status = res.statusCode ?? 0;
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        hash.update(d);
      });
      res.on("end", () => {
        const growth = stopWatch();
        if (status >= 300) reject(new Error(`download: HTTP ${status}`));
        else resolve({ bytes, sha256: hash.digest("hex"), peakRssGrowthMiB: growth });
      });
      res.on("error", reject);
    });
    req.on("error", (err) => {
      stopWatch();
      reject(err);
    });
    req.end(JSON.stringify(json));
  });
}
