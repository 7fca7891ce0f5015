import { type FSWatcher, watch } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { errnoOf } from "../errors.js";
import type { RawEvent } from "./event-classifier.js";

let openHandles = 0;

/**
 * Number of fs.watch handles (inotify watches) open in this process across
 * every envd instance: a stream or watcher that was closed must bring it
 * back down. @internal — for leak checks in tests.
 */
export function openWatchHandles(): number {
  return openHandles;
}

/**
 * The set of directories one watcher observes, one fs.watch handle (one
 * inotify watch) per directory. Node's own `recursive: true` on Linux is a
 * JS layer in Node 20 that misses directories created after start and
 * leaks on errors; holding the handles ourselves keeps adds, removals and
 * teardown explicit. Handles are not persistent: the server's socket keeps the
 * process alive, and a forgotten watcher must not keep it from exiting.
 */
export class WatchTree {
  readonly #handles = new Map<string, FSWatcher>();
  readonly #onEvent: (event: RawEvent) => void;
  readonly #onError: (dir: string, err: unknown) => void;

  constructor(onEvent: (event: RawEvent) => void, onError: (dir: string, err: unknown) => void) {
    this.#onEvent = onEvent;
    this.#onError = onError;
  }

  /** Number of directories watched. */
  get size(): number {
    return this.#handles.size;
  }

  has(dir: string): boolean {
    return this.#handles.has(dir);
  }

  /**
   * Starts watching `dir` (no-op when already watched). Throws fs.watch's
   * error (ENOENT, ENOTDIR...), or ConnectError(ResourceExhausted) when the
   * kernel's inotify watch limit is reached (inotify reports that as ENOSPC,
   * which would otherwise read as "disk full").
   */
  add(dir: string): void {
    if (this.#handles.has(dir)) return;
    let handle: FSWatcher;
    try {
      handle = watch(dir, { persistent: false }, (kind, name) => {
        if (typeof name !== "string" || name === "") return;
        this.#onEvent({ dir, name, kind: kind === "change" ? "change" : "rename" });
      });
    } catch (err) {
      if (errnoOf(err) !== "ENOSPC") throw err;
      throw new ConnectError(
        "inotify watch limit reached (fs.inotify.max_user_watches); watch fewer directories",
        Code.ResourceExhausted,
      );
    }
    openHandles++;
    handle.on("error", (err) => {
      this.#close(dir);
      this.#onError(dir, err);
    });
    this.#handles.set(dir, handle);
  }

  /** Stops watching `dir` and every watched directory below it. */
  removeTree(dir: string): void {
    const prefix = dir.endsWith("/") ? dir : `${dir}/`;
    for (const key of [...this.#handles.keys()]) {
      if (key === dir || key.startsWith(prefix)) this.#close(key);
    }
  }

  /** Stops every watch. Idempotent. */
  close(): void {
    for (const key of [...this.#handles.keys()]) this.#close(key);
  }

  #close(dir: string): void {
    const handle = this.#handles.get(dir);
    if (!handle) return;
    this.#handles.delete(dir);
    openHandles--;
    handle.close();
  }
}
