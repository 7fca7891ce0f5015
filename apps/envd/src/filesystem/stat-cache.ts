import type { BigIntStats } from "node:fs";

/** What the watcher remembers about a path: enough to tell a write from a chmod, and a move from a delete. */
export interface FileState {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly isDirectory: boolean;
}

/** The parts of a bigint lstat result a watcher keeps. */
export function fileStateOf(st: BigIntStats): FileState {
  return {
    dev: st.dev,
    ino: st.ino,
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: st.size,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    isDirectory: st.isDirectory(),
  };
}

/**
 * Last known state of the paths under a watched directory, bounded to
 * `capacity` entries. When full, the least recently updated path is
 * forgotten: a forgotten path only loses classification precision (see
 * event-classifier.ts), never events.
 */
export class StatCache {
  readonly #entries = new Map<string, FileState>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Number of remembered paths. */
  get size(): number {
    return this.#entries.size;
  }

  get(path: string): FileState | undefined {
    return this.#entries.get(path);
  }

  has(path: string): boolean {
    return this.#entries.has(path);
  }

  set(path: string, state: FileState): void {
    // Re-inserting moves the path to the young end of the Map's order.
    this.#entries.delete(path);
    this.#entries.set(path, state);
    if (this.#entries.size <= this.#capacity) return;
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }

  delete(path: string): void {
    this.#entries.delete(path);
  }

  /** Forgets `dir` and everything below it. */
  deleteTree(dir: string): void {
    const prefix = dir.endsWith("/") ? dir : `${dir}/`;
    this.#entries.delete(dir);
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}
