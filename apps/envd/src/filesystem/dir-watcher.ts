import { type BigIntStats, type Dirent, promises as fs } from "node:fs";
import { posix } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { EventType, type FilesystemEvent, FilesystemEventSchema } from "@wrenn/protocol/envd/filesystem";
import { assertAccess } from "../access.js";
import type { EnvdEnv } from "../env.js";
import { errnoOf, toConnectError } from "../errors.js";
import type { UserInfo } from "../users.js";
import { entryInfo } from "./entry-info.js";
import { type ClassifiedEvent, classifyBatch, type RawEvent } from "./event-classifier.js";
import { fsKindOf } from "./fs-kind.js";
import { type FileState, fileStateOf, StatCache } from "./stat-cache.js";
import { WatchTree } from "./watch-tree.js";

/** Raw notifications waiting to be classified before the watcher gives up on its consumer. */
const MAX_PENDING_RAW = 16_384;
/** Paths whose last state a watcher remembers (see StatCache). */
const STAT_CACHE_CAPACITY = 20_000;
/** lstat calls in flight while scanning a directory. */
const SCAN_CONCURRENCY = 64;

/** What to watch and where events go. */
export interface DirWatcherOptions {
  readonly env: EnvdEnv;
  readonly user: UserInfo;
  /** Directory as the client named it (resolved, not canonicalised). */
  readonly root: string;
  readonly recursive: boolean;
  readonly includeEntry: boolean;
  readonly allowNetworkMounts: boolean;
  /** Raw notifications queued while the consumer is busy before the watcher fails. @default 16384 */
  readonly maxPendingEvents?: number;
  /** Receives events in order; a returned promise pauses classification (back-pressure). */
  readonly onEvent: (event: FilesystemEvent) => void | Promise<void>;
  /**
   * Called at most once when the watcher stops by itself: `undefined` when
   * the watched directory was removed or moved away, an error when the
   * watcher failed (inotify limit, consumer too slow). Never called after
   * `close()`.
   */
  readonly onEnd: (err: ConnectError | undefined) => void;
}

/**
 * Watches a directory (optionally its whole subtree, including
 * directories created later) and reports E2B filesystem events. Raw
 * fs.watch notifications are collected into batches — everything inotify
 * delivered in one event-loop turn, so a move's two halves stay together —
 * and classified by event-classifier.ts against lstat results.
 */
export class DirWatcher {
  readonly #opts: DirWatcherOptions;
  readonly #cache = new StatCache(STAT_CACHE_CAPACITY);
  readonly #tree: WatchTree;
  #rootIno = 0n;
  #pending: RawEvent[] = [];
  #draining = false;
  #closed = false;
  #started = false;
  /** Why the watcher ended before `start` returned. */
  #startError: ConnectError | undefined;

  private constructor(opts: DirWatcherOptions) {
    this.#opts = opts;
    this.#tree = new WatchTree(
      (event) => this.#push(event),
      (dir, err) => {
        if (dir === opts.root) this.#end(toConnectError(err, dir));
      },
    );
  }

  /**
   * Validates the directory and starts watching. Throws ConnectError:
   * NotFound (missing), InvalidArgument (not a directory),
   * FailedPrecondition (network file system without `allowNetworkMounts`),
   * PermissionDenied, ResourceExhausted (inotify watch limit). Events that
   * happen after the returned promise resolves are reported.
   */
  static async start(opts: DirWatcherOptions): Promise<DirWatcher> {
    const watcher = new DirWatcher(opts);
    try {
      await watcher.#init();
    } catch (err) {
      watcher.close();
      throw toConnectError(err, opts.root);
    }
    if (watcher.#closed) {
      throw (
        watcher.#startError ?? new ConnectError(`'${opts.root}' was removed while the watch started`, Code.NotFound)
      );
    }
    return watcher;
  }

  /** Number of directories watched (one inotify watch each). */
  get watchedDirs(): number {
    return this.#tree.size;
  }

  /** Stops watching and drops queued events. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#pending = [];
    this.#tree.close();
  }

  async #init(): Promise<void> {
    const { root, user } = this.#opts;
    await assertAccess(root, user, "list");
    const st = await fs.stat(root, { bigint: true });
    if (!st.isDirectory()) throw new ConnectError(`'${root}': not a directory`, Code.InvalidArgument);
    if (!this.#opts.allowNetworkMounts && (await fsKindOf(root)) === "network") {
      throw new ConnectError(
        `'${root}' is on a network file system; set allow_network_mounts to watch it`,
        Code.FailedPrecondition,
      );
    }
    this.#rootIno = st.ino;
    await this.#addDir(root, st.dev, false);
    this.#started = true;
    if (this.#pending.length > 0) this.#scheduleDrain();
  }

  #push(event: RawEvent): void {
    if (this.#closed) return;
    if (this.#pending.length >= (this.#opts.maxPendingEvents ?? MAX_PENDING_RAW)) {
      this.#end(
        new ConnectError(
          "filesystem events arrive faster than the client reads them; events were lost",
          Code.ResourceExhausted,
        ),
      );
      return;
    }
    this.#pending.push(event);
    if (this.#started) this.#scheduleDrain();
  }

  #scheduleDrain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#drain()
      .catch((err: unknown) => this.#end(toConnectError(err, this.#opts.root)))
      .finally(() => {
        this.#draining = false;
        if (!this.#closed && this.#pending.length > 0) this.#scheduleDrain();
      });
  }

  async #drain(): Promise<void> {
    while (!this.#closed && this.#pending.length > 0) {
      // fs.watch callbacks for one inotify read can be interleaved with
      // microtasks; setImmediate runs after all of them, so a batch holds
      // everything the kernel had queued.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = this.#pending;
      this.#pending = [];
      await this.#process(batch);
    }
  }

  async #process(batch: readonly RawEvent[]): Promise<void> {
    const { root } = this.#opts;
    const paths = new Set(batch.map((e) => posix.join(e.dir, e.name)));
    const current = new Map<string, FileState | undefined>();
    await Promise.all([...paths].map(async (p) => current.set(p, await lstatState(p))));
    if (this.#closed) return;
    const rootBase = posix.basename(root);
    if (batch.some((e) => e.dir === root && e.name === rootBase) && !(await this.#rootStillThere())) {
      this.#end(undefined);
      return;
    }
    for (const event of classifyBatch(batch, current, this.#cache)) {
      if (this.#closed) return;
      if ((event.type === EventType.REMOVE || event.type === EventType.RENAME) && this.#tree.has(event.path)) {
        this.#tree.removeTree(event.path);
        this.#cache.deleteTree(event.path);
      }
      await this.#emit(event);
      if (event.type === EventType.CREATE && event.state?.isDirectory && this.#opts.recursive) {
        // A directory replaced under the same name leaves a watch on the old inode.
        this.#tree.removeTree(event.path);
        await this.#addDir(event.path, event.state.dev, true);
      }
    }
  }

  async #rootStillThere(): Promise<boolean> {
    try {
      return (await fs.stat(this.#opts.root, { bigint: true })).ino === this.#rootIno;
    } catch {
      return false;
    }
  }

  /**
   * Watches `dir` and records its entries; with `announce`, entries are
   * reported as CREATE (they appeared with a new directory, possibly before
   * its watch existed). Recurses when the watcher is recursive.
   */
  async #addDir(dir: string, dev: bigint, announce: boolean): Promise<void> {
    if (this.#closed) return;
    const { user, recursive } = this.#opts;
    if (dir !== this.#opts.root) {
      try {
        if (user.uid !== 0) await assertAccess(dir, user, "list");
      } catch {
        return; // the user could not list it, so they learn nothing of it
      }
    }
    try {
      this.#tree.add(dir);
    } catch (err) {
      if (dir !== this.#opts.root && isGone(err)) return;
      throw err;
    }
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir !== this.#opts.root && isGone(err)) return;
      throw err;
    }
    for (let i = 0; i < entries.length; i += SCAN_CONCURRENCY) {
      const chunk = entries.slice(i, i + SCAN_CONCURRENCY).map((d) => posix.join(dir, d.name));
      const stats = await Promise.all(chunk.map(lstatOrUndefined));
      for (const [j, path] of chunk.entries()) {
        const st = stats[j];
        if (this.#closed) return;
        if (!st) continue;
        const state = fileStateOf(st);
        if (announce && !this.#cache.has(path)) await this.#emit({ path, type: EventType.CREATE, state });
        this.#cache.set(path, state);
        if (recursive && st.isDirectory() && (await this.#shouldDescend(path, st.dev, dev))) {
          await this.#addDir(path, st.dev, announce);
        }
      }
    }
  }

  /** Skips kernel pseudo file systems, and network mounts unless allowed, below the root. */
  async #shouldDescend(path: string, dev: bigint, parentDev: bigint): Promise<boolean> {
    if (dev === parentDev) return true;
    try {
      const kind = await fsKindOf(path);
      return kind === "local" || (kind === "network" && this.#opts.allowNetworkMounts);
    } catch {
      return false;
    }
  }

  async #emit(event: ClassifiedEvent): Promise<void> {
    const { root, includeEntry, env } = this.#opts;
    let entry: FilesystemEvent["entry"];
    if (includeEntry && event.state && event.type !== EventType.REMOVE && event.type !== EventType.RENAME) {
      entry = await entryInfo(env, event.path).catch(() => undefined);
    }
    if (this.#closed) return;
    await this.#opts.onEvent(
      create(FilesystemEventSchema, { name: posix.relative(root, event.path), type: event.type, entry }),
    );
  }

  #end(err: ConnectError | undefined): void {
    if (this.#closed) return;
    this.close();
    if (this.#started) this.#opts.onEnd(err);
    else this.#startError = err;
  }
}

function isGone(err: unknown): boolean {
  const code = errnoOf(err);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EACCES";
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await fs.lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

async function lstatState(path: string): Promise<FileState | undefined> {
  const st = await lstatOrUndefined(path);
  return st ? fileStateOf(st) : undefined;
}
