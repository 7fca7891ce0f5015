import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { withPeakRss } from "../../apps/envd/src/testing/peak-rss.js";
import { processCpuMs } from "../lib/cpu-time.js";
import { fmt, type Row } from "../lib/table.js";
import { curlDownload, curlUpload, withTcpFloorServer } from "./curl-transfers.js";

// Incompressible data, as real uploads mostly are: envd may gzip compressible
// downloads, which would measure zlib rather than the transfer path.
const CHUNK = randomBytes(1024 * 1024);

/** 1 GiB upload and download through envd's /files next to raw loopback TCP, with envd's peak RSS. */
export async function benchTransfer(opts: {
  repeats: number;
  baseUrl: string;
  /** Scratch directory (tmpfs when possible) for the source and the uploaded file. */
  dir: string;
  total: number;
  rss: () => Promise<number>;
  /** envd's pid, for its CPU time per GiB (steadier than throughput on a shared machine). */
  pid?: number;
}): Promise<Row[]> {
  const { baseUrl, dir, total, rss } = opts;
  const source = join(dir, "source.bin");
  await writeRandomFile(source, total);
  const url = `${baseUrl}/files?path=${encodeURIComponent(join(dir, "uploaded.bin"))}`;

  // Best of `repeats`: this machine's steal time makes single runs noisy,
  // and the best run is the one least disturbed by neighbours.
  const cpu = async () => (opts.pid === undefined ? Number.NaN : await processCpuMs(opts.pid));
  const best = async (fn: () => Promise<number>, sample?: () => Promise<number>) => {
    let peak = 0;
    let value = 0;
    let cpuMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < opts.repeats; i++) {
      const before = await cpu();
      const run = await withPeakRss(sample ?? (async () => 0), fn);
      cpuMs = Math.min(cpuMs, (await cpu()) - before);
      value = Math.max(value, run.value);
      peak = Math.max(peak, run.peak);
    }
    return { value, peak, cpuMs };
  };
  const floor = await withTcpFloorServer(total, async (floorUrl) => ({
    upload: (await best(() => curlUpload(floorUrl, source))).value,
    download: (await best(async () => (await curlDownload(floorUrl)).mibs)).value,
  }));
  const up = await best(() => curlUpload(url, source), rss);
  const down = await best(async () => {
    const { mibs, bytes } = await curlDownload(url);
    if (bytes !== total) throw new Error(`downloaded ${bytes} of ${total} bytes`);
    return mibs;
  }, rss);
  const pct = (v: number, f: number) => `${((v / f) * 100).toFixed(0)}%`;
  const mib = (n: number) => fmt(n / 1048576, "MiB", 0);
  const gib = (total / 1073741824).toFixed(total >= 1073741824 ? 0 : 2);
  return [
    {
      metric: `upload ${gib} GiB (octet-stream, curl)`,
      value: fmt(up.value, "MiB/s", 0),
      floor: fmt(floor.upload, "MiB/s", 0),
      ratio: pct(up.value, floor.upload),
      target: ">= 50%",
      verdict: up.value / floor.upload >= 0.5 ? "ok" : "MISS",
    },
    {
      metric: `download ${gib} GiB (curl)`,
      value: fmt(down.value, "MiB/s", 0),
      floor: fmt(floor.download, "MiB/s", 0),
      ratio: pct(down.value, floor.download),
      target: ">= 50%",
      verdict: down.value / floor.download >= 0.5 ? "ok" : "MISS",
    },
    {
      metric: "envd CPU time per GiB, upload / download (least of runs)",
      value: `${fmt(up.cpuMs / (total / 1073741824), "ms", 0)} / ${fmt(down.cpuMs / (total / 1073741824), "ms", 0)}`,
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

/** Writes `total` random bytes to `path` in 1 MiB chunks. */
async function writeRandomFile(path: string, total: number): Promise<void> {
  const file = await open(path, "w");
  try {
    for (let written = 0; written < total; written += CHUNK.length) await file.write(CHUNK);
  } finally {
    await file.close();
  }
}
