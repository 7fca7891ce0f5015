import { readFile } from "node:fs/promises";

/** Memory of one process (or a sum over several), in bytes, from /proc/<pid>/smaps_rollup. */
export interface ProcMemory {
  /** Proportional set size: shared pages divided among the processes mapping them. */
  readonly pss: number;
  /** Resident set size: every resident page, shared ones counted in full. */
  readonly rss: number;
  /** The anonymous part of the PSS (heap, stacks): what a process costs on its own. */
  readonly pssAnon: number;
  /** The file-backed part of the PSS (binaries and libraries, shared through the page cache). */
  readonly pssFile: number;
}

const ZERO: ProcMemory = { pss: 0, rss: 0, pssAnon: 0, pssFile: 0 };

function kbField(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Parses an smaps_rollup text. Kernels before 5.x lack the Pss_Anon/Pss_File split: those
 * fields are then 0 while `pss` is still right.
 */
export function parseSmapsRollup(text: string): ProcMemory {
  return {
    pss: kbField(text, "Pss"),
    rss: kbField(text, "Rss"),
    pssAnon: kbField(text, "Pss_Anon"),
    pssFile: kbField(text, "Pss_File"),
  };
}

/** One process's memory; undefined when it has exited (or its rollup is unreadable). */
export async function processMemory(pid: number): Promise<ProcMemory | undefined> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => undefined);
  // Kernel threads and zombies have an empty rollup: they own no user memory.
  return text === undefined ? undefined : parseSmapsRollup(text);
}

/** Adds two readings field by field. */
export function addMemory(a: ProcMemory, b: ProcMemory): ProcMemory {
  return { pss: a.pss + b.pss, rss: a.rss + b.rss, pssAnon: a.pssAnon + b.pssAnon, pssFile: a.pssFile + b.pssFile };
}

/** Memory summed over `pids`; processes that exited meanwhile count as nothing. */
export async function sumMemory(pids: readonly number[]): Promise<ProcMemory & { readonly processes: number }> {
  let total = ZERO;
  let processes = 0;
  for (const pid of pids) {
    const m = await processMemory(pid);
    if (!m) continue;
    total = addMemory(total, m);
    processes++;
  }
  return { ...total, processes };
}

/** /proc/meminfo as bytes per field (fields without a `kB` unit, e.g. HugePages_*, are kept as counts). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?$/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  return out;
}

/** The kernel's estimate of memory available to new work without swapping, in bytes. */
export async function memAvailable(): Promise<number> {
  const info = parseMeminfo(await readFile("/proc/meminfo", "utf8"));
  const v = info["MemAvailable"];
  if (v === undefined) throw new Error("/proc/meminfo has no MemAvailable");
  return v;
}

/**
 * How many more units of `perUnitBytes` fit in `availableBytes` (rounded down). 0 when
 * nothing is available; NaN when the per-unit cost is not a positive number (a reading
 * lost in noise), so a caller never prints an infinite capacity.
 */
export function unitsThatFit(availableBytes: number, perUnitBytes: number): number {
  if (!(perUnitBytes > 0) || !Number.isFinite(perUnitBytes)) return Number.NaN;
  return Math.max(0, Math.floor(availableBytes / perUnitBytes));
}
