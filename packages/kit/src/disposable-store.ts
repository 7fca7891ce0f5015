/**
 * Owns a set of async disposables and disposes them in reverse order of
 * addition, collecting every failure (Node 20 has no AsyncDisposableStack).
 */
export class AsyncDisposableStore implements AsyncDisposable {
  #items: Array<() => PromiseLike<void> | void> = [];
  #disposed = false;

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Adds a disposable; if the store is already disposed, disposes it at once. */
  async add<T extends AsyncDisposable | Disposable>(item: T): Promise<T> {
    const dispose = () =>
      Symbol.asyncDispose in item
        ? (item as AsyncDisposable)[Symbol.asyncDispose]()
        : (item as Disposable)[Symbol.dispose]();
    if (this.#disposed) await dispose();
    else this.#items.push(dispose);
    return item;
  }

  /** Adds a cleanup callback. */
  defer(fn: () => Promise<void> | void): void {
    if (this.#disposed) void Promise.resolve().then(fn);
    else this.#items.push(fn);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const errors: unknown[] = [];
    for (const fn of this.#items.reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    this.#items = [];
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, "several disposables failed");
  }
}
