import type { AddressInfo } from "node:net";
import { createServer, connect as netConnect } from "node:net";
import { fmt, type Row } from "../lib/table.js";

const CHUNK = Buffer.alloc(1024 * 1024, 7);

/** Samples `rss` every 50 ms while `work` runs. */
async function withPeakRss<T>(rss: () => Promise<number>, work: () => Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await rss());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return { value: await work(), peak };
  } finally {
    running = false;
    await sampler;
  }
}

function sourceStream(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += CHUNK.length;
      controller.enqueue(CHUNK);
    },
  });
}

/** Raw loopback TCP throughput (MiB/s) for `total` bytes in each direction: the floor for file transfers. */
async function loopbackTcp(total: number): Promise<{ upload: number; download: number }> {
  const measure = (serverSends: boolean) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer((socket) => {
        if (serverSends) {
          let sent = 0;
          const pump = () => {
            while (sent < total) {
              sent += CHUNK.length;
              if (!socket.write(CHUNK)) return void socket.once("drain", pump);
            }
            socket.end();
          };
          pump();
        } else socket.resume();
      });
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        const start = performance.now();
        const client = netConnect(port, "127.0.0.1");
        let received = 0;
        client.on("error", reject);
        if (serverSends) {
          client.on("data", (d: Buffer) => {
            received += d.length;
          });
          client.on("end", () => {
            server.close();
            resolve(received / 1048576 / ((performance.now() - start) / 1000));
          });
        } else {
          let sent = 0;
          const pump = () => {
            while (sent < total) {
              sent += CHUNK.length;
              if (!client.write(CHUNK)) return void client.once("drain", pump);
            }
            client.end(() => {
              server.close();
              resolve(total / 1048576 / ((performance.now() - start) / 1000));
            });
          };
          pump();
        }
      });
    });
  return { upload: await measure(false), download: await measure(true) };
}

/** 1 GiB upload and download through envd's /files next to raw loopback TCP, with envd's peak RSS. */
export async function benchTransfer(opts: {
  baseUrl: string;
  path: string;
  total: number;
  rss: () => Promise<number>;
}): Promise<Row[]> {
  const { baseUrl, path, total, rss } = opts;
  const floor = await loopbackTcp(total);
  const url = `${baseUrl}/files?path=${encodeURIComponent(path)}`;

  const up = await withPeakRss(rss, async () => {
    const start = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: sourceStream(total),
      duplex: "half",
    } as RequestInit);
    if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
    return total / 1048576 / ((performance.now() - start) / 1000);
  });
  const down = await withPeakRss(rss, async () => {
    const start = performance.now();
    const res = await fetch(url);
    if (res.status !== 200 || !res.body) throw new Error(`download answered ${res.status}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    if (bytes !== total) throw new Error(`downloaded ${bytes} bytes, expected ${total}`);
    return total / 1048576 / ((performance.now() - start) / 1000);
  });
  const pct = (v: number, f: number) => `${((v / f) * 100).toFixed(0)}%`;
  const mib = (n: number) => fmt(n / 1048576, "MiB", 0);
  const gib = (total / 1073741824).toFixed(total >= 1073741824 ? 0 : 2);
  return [
    {
      metric: `upload ${gib} GiB (octet-stream)`,
      value: fmt(up.value, "MiB/s", 0),
      floor: fmt(floor.upload, "MiB/s", 0),
      ratio: pct(up.value, floor.upload),
      target: ">= 50%",
      verdict: up.value / floor.upload >= 0.5 ? "ok" : "MISS",
    },
    {
      metric: `download ${gib} GiB`,
      value: fmt(down.value, "MiB/s", 0),
      floor: fmt(floor.download, "MiB/s", 0),
      ratio: pct(down.value, floor.download),
      target: ">= 50%",
      verdict: down.value / floor.download >= 0.5 ? "ok" : "MISS",
    },
    {
      metric: "envd peak RSS during upload",
      value: mib(up.peak),
      target: "< 150 MiB",
      verdict: up.peak < 150 * 1048576 ? "ok" : "MISS",
    },
    {
      metric: "envd peak RSS during download",
      value: mib(down.peak),
      target: "< 150 MiB",
      verdict: down.peak < 150 * 1048576 ? "ok" : "MISS",
    },
  ];
}
