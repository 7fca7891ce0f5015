/**
 * Disk usage of a capsule's writable layer (the overlay's upper directory), measured in
 * process and at a low rate. The agent used to run `du -sb` on it every 500 ms per capsule:
 * a child process per capsule per tick, about 1 % of a core each. Here a walk of the tree
 * with lstat (no child process) runs at most every `minIntervalMs`, in the background, and
 * only when the capsule has used CPU since the last walk: a capsule that ran nothing wrote
 * nothing. The sampler always gets the latest finished result at once.
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Apparent size of the tree at `root` in bytes, as `du -sb` counts it: the size of every
 * entry (directories and symlinks included, the root too), each hard-linked inode once.
 * Entries that vanish during the walk are skipped; a missing `root` rejects (ENOENT).
 */
export async function treeBytes(root: string): Promise<number> {
  const top = await lstat(root);
  let total = top.size;
  const seenLinks = new Set<string>();
  const dirs = top.isDirectory() ? [root] : [];
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    const names = await readdir(dir).catch(() => [] as string[]);
    // One directory's entries at a time: bounded parallelism, however wide the tree is.
    const stats = await Promise.all(names.map((n) => lstat(join(dir, n)).catch(() => undefined)));
    for (const [i, st] of stats.entries()) {
      if (!st) continue;
      if (st.isDirectory()) {
        dirs.push(join(dir, names[i] ?? ""));
      } else if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seenLinks.has(key)) continue;
        seenLinks.add(key);
      }
      total += st.size;
    }
  }
  return total;
}

/** Options of {@link TreeUsageMeter}. */
export interface TreeUsageMeterOptions {
  /** Shortest time between two walks. @default 10_000 */
  readonly minIntervalMs?: number;
  /** Monotonic milliseconds. @default performance.now */
  readonly now?: () => number;
  /** Measures the tree. @default treeBytes */
  readonly measure?: (root: string) => Promise<number>;
}

/** The disk usage of one capsule's writable layer, refreshed lazily (see the module comment). */
export class TreeUsageMeter {
  readonly #root: string;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  readonly #measure: (root: string) => Promise<number>;
  #bytes: number | undefined;
  #walkedAt = Number.NEGATIVE_INFINITY;
  /** CPU counter of the capsule when the last walk started. */
  #cpuAtWalk: number | undefined;
  #walking: Promise<void> | undefined;
  #walks = 0;

  constructor(root: string, opts: TreeUsageMeterOptions = {}) {
    this.#root = root;
    this.#minIntervalMs = opts.minIntervalMs ?? 10_000;
    this.#now = opts.now ?? (() => performance.now());
    this.#measure = opts.measure ?? treeBytes;
  }

  /** Walks started so far (for tests and benchmarks). */
  get walks(): number {
    return this.#walks;
  }

  /**
   * The layer's size in bytes. The first call waits for a walk; later calls answer with the
   * latest result at once and start a walk in the background when one is due: the interval
   * passed and `cpuMicros` (the capsule's CPU counter) moved since the last one. A failed
   * walk keeps the previous value (the capsule is being destroyed).
   */
  async read(cpuMicros: number): Promise<number> {
    if (this.#bytes === undefined) {
      if (this.#walking === undefined) this.#start(cpuMicros);
      await this.#walking;
      return this.#bytes ?? 0;
    }
    const due = this.#now() - this.#walkedAt >= this.#minIntervalMs && cpuMicros !== this.#cpuAtWalk;
    if (due && this.#walking === undefined) this.#start(cpuMicros);
    return this.#bytes;
  }

  #start(cpuMicros: number): void {
    this.#cpuAtWalk = cpuMicros;
    this.#walkedAt = this.#now();
    this.#walks++;
    this.#walking = this.#measure(this.#root)
      .then(
        (b) => {
          this.#bytes = b;
        },
        () => undefined,
      )
      .finally(() => {
        this.#walking = undefined;
      });
  }
}
