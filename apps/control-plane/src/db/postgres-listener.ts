/**
 * LISTEN/NOTIFY for the node-postgres `Database`: one dedicated connection per
 * database (a pooled connection would be handed to other queries, and a
 * session's LISTEN dies with it). When the connection drops, it reconnects
 * with backoff and re-issues LISTEN for every subscribed channel.
 */
import pg from "pg";
import { DatabaseError, toDatabaseError } from "./database-error.js";
import { clientConfig } from "./postgres-config.js";
import { Mutex } from "./transaction-scope.js";

/** One callback registration (an object, so the same function may subscribe twice). */
interface Subscription {
  readonly onPayload: (payload: string) => void;
}

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 30_000;

/** Owns the LISTEN connection of one PostgreSQL `Database`. @internal */
export class PostgresListener {
  readonly #connectionString: string;
  readonly #onBackgroundError: (err: DatabaseError) => void;
  readonly #subscriptions = new Map<string, Set<Subscription>>();
  // Subscribe, unsubscribe and reconnect each run LISTEN/UNLISTEN on the same client: one at a time.
  readonly #mutex = new Mutex();
  #client: pg.Client | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryMs = FIRST_RETRY_MS;
  #closed = false;

  constructor(connectionString: string, onBackgroundError: (err: DatabaseError) => void) {
    this.#connectionString = connectionString;
    this.#onBackgroundError = onBackgroundError;
  }

  /** LISTENs on `channel` (once per channel) and returns the idempotent unsubscribe function. */
  async subscribe(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    const subscription: Subscription = { onPayload };
    await this.#mutex.run(async () => {
      if (this.#closed) throw new DatabaseError("the database is closed");
      const set = this.#subscriptions.get(channel) ?? new Set<Subscription>();
      if (set.size === 0) {
        const client = await this.#connected();
        await run(client, `LISTEN "${channel}"`);
      }
      set.add(subscription);
      this.#subscriptions.set(channel, set);
    });
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      await this.#mutex.run(async () => {
        const set = this.#subscriptions.get(channel);
        if (!set?.delete(subscription) || set.size > 0) return;
        this.#subscriptions.delete(channel);
        if (this.#client && !this.#closed) await run(this.#client, `UNLISTEN "${channel}"`);
      });
    };
  }

  /** Stops reconnecting and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#mutex.run(async () => {
      const client = this.#client;
      this.#client = undefined;
      await client?.end().catch(() => undefined);
    });
  }

  async #connected(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client({
      ...clientConfig(this.#connectionString),
      application_name: "wrenn-control-plane-listen",
    });
    client.on("notification", (message) => this.#dispatch(message.channel, message.payload ?? ""));
    client.on("error", (err) => this.#lost(client, err));
    client.on("end", () => this.#lost(client, new Error("connection ended")));
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw toDatabaseError(err);
    }
    this.#client = client;
    this.#retryMs = FIRST_RETRY_MS;
    return client;
  }

  #dispatch(channel: string, payload: string): void {
    for (const subscription of this.#subscriptions.get(channel) ?? []) {
      try {
        subscription.onPayload(payload);
      } catch (err) {
        this.#onBackgroundError(new DatabaseError(`a handler for notifications on ${channel} threw`, { cause: err }));
      }
    }
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#onBackgroundError(toDatabaseError(err));
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retryTimer || this.#subscriptions.size === 0) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#mutex.run(async () => {
        if (this.#closed || this.#subscriptions.size === 0) return;
        try {
          const client = await this.#connected();
          for (const channel of this.#subscriptions.keys()) await run(client, `LISTEN "${channel}"`);
        } catch (err) {
          const failed = this.#client;
          this.#client = undefined;
          failed?.end().catch(() => undefined);
          this.#onBackgroundError(toDatabaseError(err));
          this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
          this.#scheduleReconnect();
        }
      });
    }, this.#retryMs);
  }
}

async function run(client: pg.Client, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (err) {
    throw toDatabaseError(err);
  }
}
