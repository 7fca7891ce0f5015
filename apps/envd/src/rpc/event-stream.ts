/**
 * A bounded single-consumer queue turned into an async iterator, for server
 * streams that merge several sources (process output, keepalive timer,
 * watcher events). `push` returns false when the queue is full so producers
 * can pause their source (back-pressure) and wait for `drained()`.
 */
export class EventStream<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #closed = false;
  #error: unknown;
  #wakeConsumer: (() => void) | undefined;
  #drainWaiters: Array<() => void> = [];

  constructor(capacity = 256) {
    this.#capacity = capacity;
  }

  /** Number of queued items. */
  get size(): number {
    return this.#items.length;
  }

  /** True once end() or fail() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Enqueues an item (even past capacity); returns false when the producer should pause. */
  push(item: T): boolean {
    if (this.#closed) return false;
    this.#items.push(item);
    this.#wake();
    return this.#items.length < this.#capacity;
  }

  /** Resolves when the queue has room again (or is closed). */
  drained(): Promise<void> {
    if (this.#items.length < this.#capacity || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Ends the stream after the queued items are consumed. */
  end(): void {
    this.#closed = true;
    this.#wake();
    this.#releaseDrainWaiters();
  }

  /** Ends the stream with an error, thrown to the consumer after queued items. */
  fail(err: unknown): void {
    if (this.#closed) return;
    this.#error = err ?? new Error("stream failed");
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        if (this.#items.length < this.#capacity) this.#releaseDrainWaiters();
        yield item;
        continue;
      }
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
    }
  }

  #wake(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    wake?.();
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}
