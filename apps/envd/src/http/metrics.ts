import { readFile, statfs } from "node:fs/promises";
import { cpus, freemem, totalmem } from "node:os";

/** Resource usage of the capsule as envd sees it (E2B envd `Metrics`, plus Wrenn's MiB fields). */
export interface Metrics {
  ts: number;
  cpu_count: number;
  cpu_used_pct: number;
  mem_total: number;
  mem_used: number;
  mem_cache: number;
  mem_total_mib: number;
  mem_used_mib: number;
  disk_used: number;
  disk_total: number;
}

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * Samples CPU usage between calls (no background timer: an idle capsule
 * should not wake envd every second). The first call reports usage since boot.
 */
export class MetricsSampler {
  #last: CpuTimes = { idle: 0, total: 0 };

  async sample(): Promise<Metrics> {
    const now = cpuTimes();
    const dTotal = now.total - this.#last.total;
    const dIdle = now.idle - this.#last.idle;
    this.#last = now;
    const cpuUsedPct = dTotal > 0 ? Math.round(((dTotal - dIdle) / dTotal) * 10000) / 100 : 0;
    const mem = await memInfo();
    const disk = await statfs("/");
    const diskTotal = disk.blocks * disk.bsize;
    const diskUsed = (disk.blocks - disk.bfree) * disk.bsize;
    return {
      ts: Math.floor(Date.now() / 1000),
      cpu_count: cpus().length,
      cpu_used_pct: cpuUsedPct,
      mem_total: mem.total,
      mem_used: mem.used,
      mem_cache: mem.cache,
      mem_total_mib: Math.floor(mem.total / 1048576),
      mem_used_mib: Math.floor(mem.used / 1048576),
      disk_used: diskUsed,
      disk_total: diskTotal,
    };
  }
}

async function memInfo(): Promise<{ total: number; used: number; cache: number }> {
  try {
    const text = await readFile("/proc/meminfo", "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) * 1024;
    const total = kb("MemTotal");
    const available = kb("MemAvailable");
    const cache = kb("Cached") + kb("Buffers");
    return { total, used: total - available, cache };
  } catch {
    const total = totalmem();
    return { total, used: total - freemem(), cache: 0 };
  }
}
