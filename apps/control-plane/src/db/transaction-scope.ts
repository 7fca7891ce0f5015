/**
 * Helpers shared by both `Database` implementations: the guard that stops a
 * transaction body from calling its own database, the wrapper that retires a
 * transaction handle once the transaction ends, and a FIFO mutex.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Queryable } from "./database.js";
import { DatabaseError } from "./database-error.js";

/** The databases whose transaction callback the current async context is running in. */
const openTransactions = new AsyncLocalStorage<ReadonlySet<object>>();

/** Runs `fn` marked as inside a transaction of `owner` (see `assertNotInTransaction`). */
export function runInTransactionScope<T>(owner: object, fn: () => Promise<T>): Promise<T> {
  const outer = openTransactions.getStore();
  return openTransactions.run(new Set([...(outer ?? []), owner]), fn);
}

/**
 * Throws when called from inside a transaction callback of `owner`. On PGlite
 * such a call would wait forever for the transaction it runs in; on a pool it
 * would run on another connection, outside the transaction and possibly
 * blocked by its locks. Either way it is a bug to report at once.
 */
export function assertNotInTransaction(owner: object): void {
  if (openTransactions.getStore()?.has(owner)) {
    throw new DatabaseError(
      "the database was called from inside its own transaction: use the transaction handle passed to the callback",
    );
  }
}

/** Wraps `inner` so that any use after `finish()` throws instead of running on a connection someone else now owns. */
export function retiringHandle(inner: Queryable): { handle: Queryable; finish: () => void } {
  let finished = false;
  const check = () => {
    if (finished) throw new DatabaseError("the transaction has already finished; its handle cannot be used any more");
  };
  const handle: Queryable = {
    query: async (sql, params) => {
      check();
      return inner.query(sql, params);
    },
    exec: async (script) => {
      check();
      return inner.exec(script);
    },
    notify: async (channel, payload) => {
      check();
      return inner.notify(channel, payload);
    },
  };
  return {
    handle,
    finish: () => {
      finished = true;
    },
  };
}

/** A FIFO async mutex: `run` calls execute one at a time, in call order. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every earlier `run` has settled; resolves or rejects with `fn`'s outcome. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    // The next caller waits for this one whatever its outcome.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
