/**
 * A fixed-capacity FIFO ring: pushing onto a full ring overwrites the oldest item. Memory is
 * allocated once, so a capsule's metrics never grow however long it runs.
 */
export class RingBuffer<T> {
  readonly #items: (T | undefined)[];
  #start = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#items = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Number of items held (≤ capacity). */
  get size(): number {
    return this.#size;
  }

  /** Appends `item`, dropping the oldest when full. */
  push(item: T): void {
    const end = (this.#start + this.#size) % this.capacity;
    this.#items[end] = item;
    if (this.#size < this.capacity) this.#size++;
    else this.#start = (this.#start + 1) % this.capacity;
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[(this.#start + this.#size - 1) % this.capacity];
  }

  /** Items oldest first (a copy). */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) {
      const item = this.#items[(this.#start + i) % this.capacity];
      if (item !== undefined) out.push(item);
    }
    return out;
  }

  /** Items oldest first that satisfy `keep` (avoids copying the whole ring first). */
  filter(keep: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) {
      const item = this.#items[(this.#start + i) % this.capacity];
      if (item !== undefined && keep(item)) out.push(item);
    }
    return out;
  }

  /** Empties the ring (keeps its allocation). */
  clear(): void {
    this.#items.fill(undefined);
    this.#start = 0;
    this.#size = 0;
  }
}
