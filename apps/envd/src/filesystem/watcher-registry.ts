import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@wrenn/kit";
import type { FilesystemEvent } from "@wrenn/protocol/envd/filesystem";
import { DirWatcher, type DirWatcherOptions } from "./dir-watcher.js";

/** Limits of a registry; see WatcherRegistry. */
export interface WatcherRegistryLimits {
  /** Watchers alive at once. @default 1000 */
  readonly maxWatchers: number;
  /** Undrained events kept per watcher. @default 4096 */
  readonly maxBufferedEvents: number;
}

/** Events a watcher collected and not yet handed out. */
interface EventBuffer {
  events: FilesystemEvent[];
  dropped: number;
  failure: ConnectError | undefined;
}

interface Polled {
  readonly watcher: DirWatcher;
  readonly buffer: EventBuffer;
}

/**
 * The non-streaming watchers of CreateWatcher / GetWatcherEvents /
 * RemoveWatcher, for clients that cannot hold a stream open (E2B's
 * Python SDK polls). Ids are "w-" + 16 hex digits, unguessable so one
 * client cannot drain another's watcher by counting.
 *
 * Bounds: at most `maxWatchers` watchers (CreateWatcher then fails with
 * ResourceExhausted) and `maxBufferedEvents` undrained events each; when a
 * client polls too rarely the OLDEST events are dropped (the latest state
 * matters most to a poller) and a warning is logged. A watcher that fails
 * hands out its buffered events, then fails GetWatcherEvents once with
 * the error and is removed.
 */
export class WatcherRegistry {
  readonly #watchers = new Map<string, Polled>();
  readonly #limits: WatcherRegistryLimits;
  readonly #log: Logger;

  constructor(log: Logger, limits: Partial<WatcherRegistryLimits> = {}) {
    this.#log = log;
    this.#limits = { maxWatchers: limits.maxWatchers ?? 1000, maxBufferedEvents: limits.maxBufferedEvents ?? 4096 };
  }

  /** Number of live watchers. */
  get size(): number {
    return this.#watchers.size;
  }

  /** Starts a watcher and returns its id; throws what DirWatcher.start throws. */
  async create(opts: Omit<DirWatcherOptions, "onEvent" | "onEnd">): Promise<string> {
    if (this.#watchers.size >= this.#limits.maxWatchers) {
      throw new ConnectError("too many watchers; remove unused ones", Code.ResourceExhausted);
    }
    const id = `w-${randomBytes(8).toString("hex")}`;
    const buffer: EventBuffer = { events: [], dropped: 0, failure: undefined };
    const watcher = await DirWatcher.start({
      ...opts,
      onEvent: (event) => {
        buffer.events.push(event);
        const excess = buffer.events.length - this.#limits.maxBufferedEvents;
        if (excess > 0) {
          buffer.events.splice(0, excess);
          buffer.dropped += excess;
        }
      },
      onEnd: (err) => {
        buffer.failure = err;
      },
    });
    // Another create may have filled the table while this one started.
    if (this.#watchers.size >= this.#limits.maxWatchers) {
      watcher.close();
      throw new ConnectError("too many watchers; remove unused ones", Code.ResourceExhausted);
    }
    this.#watchers.set(id, { watcher, buffer });
    return id;
  }

  /** Returns and forgets the events collected since the last call. NotFound for an unknown id. */
  drain(id: string): FilesystemEvent[] {
    const { buffer } = this.#get(id);
    if (buffer.dropped > 0) {
      this.#log.warn({ watcherId: id, dropped: buffer.dropped }, "watcher buffer full; oldest events dropped");
      buffer.dropped = 0;
    }
    const events = buffer.events;
    buffer.events = [];
    if (events.length === 0 && buffer.failure) {
      this.#watchers.delete(id);
      throw buffer.failure;
    }
    return events;
  }

  /** Buffered events and the count dropped since the last drain, without draining. @internal — for tests. */
  peek(id: string): { readonly events: readonly FilesystemEvent[]; readonly dropped: number } {
    const { buffer } = this.#get(id);
    return { events: [...buffer.events], dropped: buffer.dropped };
  }

  /** Stops a watcher and releases its inotify watches. NotFound for an unknown id. */
  remove(id: string): void {
    this.#get(id).watcher.close();
    this.#watchers.delete(id);
  }

  /** Stops every watcher (envd shutdown). */
  closeAll(): void {
    for (const polled of this.#watchers.values()) polled.watcher.close();
    this.#watchers.clear();
  }

  #get(id: string): Polled {
    const polled = this.#watchers.get(id);
    if (!polled) throw new ConnectError(`watcher '${id.slice(0, 64)}' not found`, Code.NotFound);
    return polled;
  }
}
