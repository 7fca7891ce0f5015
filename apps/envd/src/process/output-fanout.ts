import { EventStream } from "../rpc/event-stream.js";

/** The producer side the fanout throttles: a child's stdout/stderr or PTY. */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

/** Tuning for an OutputFanout. */
export interface FanoutOptions {
  /**
   * Events queued per listener before it counts as full. Output chunks are at
   * most 32 KiB, so this bounds each listener to about capacity × 32 KiB.
   * @default 256
   */
  readonly capacity?: number;
  /**
   * How long a listener may stay full while another listener is waiting for
   * data before it is dropped with `overloadError()`.
   * @default 10_000
   */
  readonly stallLimitMs?: number;
  /** The error a dropped listener's stream fails with. */
  readonly overloadError: () => Error;
}

/** One listener's view of the output: an async iterable that ends after the final event. */
export interface Subscription<T> extends AsyncIterable<T> {
  /** Queues an out-of-band event (a keepalive) without back-pressure accounting. */
  inject(item: T): void;
  /** True while nothing is queued for this listener. */
  readonly idle: boolean;
  /** Stops listening; the iterator ends after what is already queued. */
  close(): void;
}

interface Listener<T> {
  readonly queue: EventStream<T>;
  /** When the queue became full, or undefined while it has room. */
  fullSince: number | undefined;
}

const DEFAULT_CAPACITY = 256;
const DEFAULT_STALL_LIMIT_MS = 10_000;

/**
 * Copies a process's output events to every listener (the Start stream plus
 * any Connect streams) with bounded memory.
 *
 * Policy: the slowest listener sets the pace. When any listener's queue is
 * full the source is paused, so the kernel pipe fills and the child blocks in
 * write() instead of envd buffering without bound. A listener that stays full
 * for `stallLimitMs` while some other listener has room (is waiting for data)
 * is dropped with `overloadError()`: a stuck Connect stream cannot starve
 * the Start stream forever, while a lone slow reader is never dropped (it
 * only slows the child down). With no listener at all the output is
 * discarded as it arrives, so a background command never blocks.
 *
 * After `finish(final)` every listener gets `final` and ends; listeners that
 * subscribe later get just `final`, so a Connect racing the process's exit
 * still sees the end.
 */
export class OutputFanout<T> {
  readonly #flow: FlowControl;
  readonly #capacity: number;
  readonly #stallLimitMs: number;
  readonly #overloadError: () => Error;
  readonly #listeners = new Set<Listener<T>>();
  #paused = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #final: { readonly item: T } | undefined;

  constructor(flow: FlowControl, options: FanoutOptions) {
    this.#flow = flow;
    this.#capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.#stallLimitMs = options.stallLimitMs ?? DEFAULT_STALL_LIMIT_MS;
    this.#overloadError = options.overloadError;
  }

  /** Number of current listeners. */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** True while the source is paused for back-pressure. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Adds a listener that receives every event published from now on. */
  subscribe(): Subscription<T> {
    const queue = new EventStream<T>(this.#capacity);
    const listener: Listener<T> = { queue, fullSince: undefined };
    if (this.#final) {
      queue.push(this.#final.item);
      queue.end();
    } else {
      this.#listeners.add(listener);
      // A new listener waits for data that a full one is holding back.
      if (this.#paused) this.#armStallTimer();
    }
    return {
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
      inject: (item) => {
        queue.push(item);
      },
      get idle() {
        return queue.size === 0;
      },
      close: () => this.#remove(listener, undefined),
    };
  }

  /** Delivers an event to every listener, pausing the source when one is full. */
  publish(item: T): void {
    if (this.#final) return;
    for (const listener of this.#listeners) {
      if (!listener.queue.push(item)) this.#markFull(listener);
    }
    if (!this.#paused && this.#anyFull()) {
      this.#paused = true;
      this.#flow.pause();
      this.#armStallTimer();
    }
  }

  /** Delivers the last event to every listener and ends them all. */
  finish(final: T): void {
    if (this.#final) return;
    this.#final = { item: final };
    for (const listener of this.#listeners) {
      listener.queue.push(final);
      listener.queue.end();
    }
    this.#listeners.clear();
    this.#clearStallTimer();
    this.#resumeIfRoom();
  }

  /**
   * Ends every listener without the final event and stops throttling, so the
   * source drains freely (shutdown: nobody is going to read any more).
   */
  closeAll(): void {
    for (const listener of [...this.#listeners]) this.#remove(listener, undefined);
  }

  #markFull(listener: Listener<T>): void {
    if (listener.fullSince !== undefined) return;
    listener.fullSince = Date.now();
    void listener.queue.drained().then(() => {
      listener.fullSince = undefined;
      this.#resumeIfRoom();
      // Someone now waits on the remaining full listeners: start their clock.
      if (this.#paused) this.#armStallTimer();
    });
  }

  #anyFull(): boolean {
    for (const listener of this.#listeners) if (listener.fullSince !== undefined) return true;
    return false;
  }

  #remove(listener: Listener<T>, error: Error | undefined): void {
    if (!this.#listeners.delete(listener)) {
      listener.queue.end();
      return;
    }
    if (error) listener.queue.fail(error);
    else listener.queue.end();
    this.#resumeIfRoom();
  }

  #resumeIfRoom(): void {
    if (!this.#paused || this.#anyFull()) return;
    this.#paused = false;
    this.#clearStallTimer();
    this.#flow.resume();
  }

  /**
   * Schedules the stall check, but only while some listener has room: when
   * every listener is full this is plain back-pressure and nobody starves.
   */
  #armStallTimer(): void {
    this.#clearStallTimer();
    let oldestFull = Number.POSITIVE_INFINITY;
    let someoneWaiting = false;
    for (const listener of this.#listeners) {
      if (listener.fullSince === undefined) someoneWaiting = true;
      else oldestFull = Math.min(oldestFull, listener.fullSince);
    }
    if (!someoneWaiting || oldestFull === Number.POSITIVE_INFINITY) return;
    const delay = Math.max(0, oldestFull + this.#stallLimitMs - Date.now());
    this.#stallTimer = setTimeout(() => this.#onStall(), delay);
  }

  #clearStallTimer(): void {
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  #onStall(): void {
    this.#stallTimer = undefined;
    const now = Date.now();
    let someoneWaiting = false;
    const stalled: Listener<T>[] = [];
    for (const listener of this.#listeners) {
      if (listener.fullSince === undefined) someoneWaiting = true;
      else if (now - listener.fullSince >= this.#stallLimitMs) stalled.push(listener);
    }
    if (someoneWaiting) for (const listener of stalled) this.#remove(listener, this.#overloadError());
    if (this.#paused) this.#armStallTimer();
  }
}
