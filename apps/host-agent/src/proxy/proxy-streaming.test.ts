import assert from "node:assert/strict";
import { request } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import { closeServer, createHttpServer, freePort, listen, startProxy } from "./proxy-test-helpers.js";

const TOTAL = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** TOTAL bytes from one reused chunk, produced only as fast as they are consumed. */
function source(counter: { produced: number }): Readable {
  return Readable.from(
    (function* () {
      while (counter.produced < TOTAL) {
        counter.produced += CHUNK.length;
        yield CHUNK;
      }
    })(),
  );
}

describe("PortProxy streaming", () => {
  it("moves 200 MB each way in bounded memory, with back-pressure to the producer", async (t) => {
    const down = { produced: 0 };
    const upstream = createHttpServer((req, res) => {
      if (req.method === "POST") {
        let n = 0;
        req.on("data", (d: Buffer) => {
          n += d.length;
        });
        req.on("end", () => res.end(String(n)));
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" });
      void pipeline(source(down), res).catch(() => {});
    });
    const port = await listen(upstream);
    await using p = await startProxy();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);

    // Upload.
    const up = { produced: 0 };
    const t0 = Date.now();
    const uploaded = await new Promise<string>((resolve, reject) => {
      const req = request(`${p.base}/proxy/sbx/${port}/upload`, { method: "POST", agent: false }, (res) => {
        let b = "";
        res.on("data", (d: Buffer) => {
          b += d.toString();
        });
        res.on("end", () => resolve(b));
      });
      req.on("error", reject);
      void pipeline(source(up), req).catch(reject);
    });
    const upMs = Date.now() - t0;
    assert.equal(Number(uploaded), TOTAL);

    // Download, pausing the reader once to show the upstream producer stops too.
    const t1 = Date.now();
    let received = 0;
    let lagDuringPause = 0;
    await new Promise<void>((resolve, reject) => {
      request(`${p.base}/proxy/sbx/${port}/download`, { agent: false }, (res) => {
        let paused = false;
        res.on("data", (d: Buffer) => {
          received += d.length;
          if (!paused && received > 20 * 1024 * 1024) {
            paused = true;
            res.pause();
            setTimeout(() => {
              lagDuringPause = down.produced - received;
              res.resume();
            }, 300);
          }
        });
        res.on("end", () => resolve());
        res.on("error", reject);
      })
        .on("error", reject)
        .end();
    });
    const downMs = Date.now() - t1;
    clearInterval(sampler);
    assert.equal(received, TOTAL);
    const growth = peak - rss0;
    t.diagnostic(
      `200 MB up ${upMs} ms (${Math.round(TOTAL / 1048576 / (upMs / 1000))} MB/s), down ${downMs} ms ` +
        `(${Math.round(TOTAL / 1048576 / (downMs / 1000))} MB/s), rss growth ${Math.round(growth / 1048576)} MiB, ` +
        `producer lead while reader paused ${Math.round(lagDuringPause / 1048576)} MiB`,
    );
    assert.ok(lagDuringPause < 16 * 1024 * 1024, `producer ran ${lagDuringPause} bytes ahead of a paused reader`);
    assert.ok(growth < 128 * 1024 * 1024, `rss grew ${growth} bytes`);
    await closeServer(upstream);
  });

  it("stops retrying the dial when the client goes away", async () => {
    const port = await freePort();
    await using p = await startProxy({ dialRetry: { attempts: 3, backoffMs: 200, connectTimeoutMs: 1000 } });
    const before = p.proxy.agent.dialAttempts;
    const req = request(`${p.base}/proxy/sbx/${port}/`, { agent: false });
    req.on("error", () => {});
    req.end();
    await new Promise((r) => setTimeout(r, 80));
    req.destroy();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(p.proxy.agent.dialAttempts - before, 1, "no attempt after the client left");
  });
});
