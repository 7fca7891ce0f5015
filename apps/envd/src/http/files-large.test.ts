import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { useEnvd } from "../testing/test-envd.js";
import { filesUrl } from "./files-testing.js";

const GIB = 1 << 30;
const CHUNK = 1 << 20;
const RSS_LIMIT = 150 * 1024 * 1024;

/**
 * `total` bytes produced on demand from a pool of distinct random chunks
 * (sent round-robin, so reordered or repeated chunks change the hash). The
 * pool is allocated up front and never mutated: undici keeps every chunk of a
 * streamed request body alive until the request ends, so fresh buffers per
 * chunk would measure the client's memory, not envd's.
 */
function generated(total: number, hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  const pool = Array.from({ length: 61 }, () => randomBytes(CHUNK));
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (index * CHUNK >= total) return controller.close();
        const chunk = pool[index % pool.length] ?? Buffer.alloc(0);
        hash.update(chunk);
        index++;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 2 },
  );
}

/** Samples this process's RSS (envd runs in-process) until stopped; returns the peak growth over `base`. */
function watchRss(): { stop(): number } {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) - base;
    },
  };
}

function mbPerSecond(bytes: number, ms: number): number {
  return Math.round(bytes / 1e6 / (ms / 1000));
}

test("1 GiB streamed upload and download: correct bytes, flat memory", { timeout: 60_000 }, async (t) => {
  await using envd = await useEnvd();
  const path = join(envd.dir, "big.bin");

  const sent = createHash("sha256");
  const body = generated(GIB, sent);
  let rss = watchRss();
  let started = performance.now();
  const up = await fetch(filesUrl(envd.url, { path }), {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body,
    duplex: "half",
  } as RequestInit);
  assert.equal(up.status, 200, await up.clone().text());
  const uploadMs = performance.now() - started;
  const uploadGrowth = rss.stop();
  assert.equal((await stat(path)).size, GIB);

  const received = createHash("sha256");
  rss = watchRss();
  started = performance.now();
  // fetch's default Accept-Encoding (gzip, deflate), as the e2b SDK sends it: incompressible data comes back as is.
  const down = await fetch(filesUrl(envd.url, { path }));
  assert.equal(down.status, 200);
  assert.equal(down.headers.get("content-length"), String(GIB));
  let size = 0;
  for await (const chunk of down.body as unknown as AsyncIterable<Uint8Array>) {
    received.update(chunk);
    size += chunk.length;
  }
  const downloadMs = performance.now() - started;
  const downloadGrowth = rss.stop();

  assert.equal(size, GIB);
  assert.equal(received.digest("hex"), sent.digest("hex"));
  t.diagnostic(`upload ${mbPerSecond(GIB, uploadMs)} MB/s, RSS growth ${Math.round(uploadGrowth / 2 ** 20)} MiB`);
  t.diagnostic(`download ${mbPerSecond(GIB, downloadMs)} MB/s, RSS growth ${Math.round(downloadGrowth / 2 ** 20)} MiB`);
  assert.ok(uploadGrowth < RSS_LIMIT, `upload grew RSS by ${uploadGrowth} bytes`);
  assert.ok(downloadGrowth < RSS_LIMIT, `download grew RSS by ${downloadGrowth} bytes`);
});
