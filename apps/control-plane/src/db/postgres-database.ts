/**
 * `Database` on a PostgreSQL server through a node-postgres pool
 * (`DATABASE_URL`). Transactions check out one pooled client for BEGIN …
 * COMMIT; LISTEN runs on one dedicated client (see `PostgresListener`).
 */
import pg from "pg";
import { assertChannelName, type Database, type Queryable, type QueryResult, type SqlParam } from "./database.js";
import { DatabaseError, toDatabaseError } from "./database-error.js";
import { clientConfig } from "./postgres-config.js";
import { PostgresListener } from "./postgres-listener.js";
import { assertNotInTransaction, retiringHandle, runInTransactionScope } from "./transaction-scope.js";

/** Connection settings for `openPostgresDatabase`. */
export interface PostgresDatabaseOptions {
  /** `postgresql://user:pass@host:port/db` or, for a unix socket, `postgresql://user@/db?host=/run/dir`. */
  readonly connectionString: string;
  /** Pool size. @default 10 */
  readonly maxConnections?: number | undefined;
  /**
   * Called with errors that belong to no caller: an idle pooled connection
   * dropped by the server, the LISTEN connection failing (it reconnects).
   * @default ignore (the next query reports a lasting problem)
   */
  readonly onBackgroundError?: ((err: DatabaseError) => void) | undefined;
}

function clientQueryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<TRow>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<TRow>> {
      try {
        const result = await client.query({ text: sql, values: params ? [...params] : [] });
        return { rows: result.rows as TRow[], rowCount: result.rowCount ?? result.rows.length };
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
    async exec(script: string): Promise<void> {
      try {
        // No parameters: node-postgres uses the simple query protocol, which accepts several statements.
        await client.query(script);
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
    async notify(channel: string, payload: string): Promise<void> {
      assertChannelName(channel);
      try {
        await client.query({ text: "SELECT pg_notify($1, $2)", values: [channel, payload] });
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
  };
}

class PostgresDatabase implements Database {
  readonly kind = "postgres" as const;
  readonly #pool: pg.Pool;
  readonly #direct: Queryable;
  readonly #listener: PostgresListener;
  #closed: Promise<void> | undefined;

  constructor(pool: pg.Pool, listener: PostgresListener) {
    this.#pool = pool;
    this.#direct = clientQueryable(pool);
    this.#listener = listener;
  }

  #check(): void {
    if (this.#closed) throw new DatabaseError("the database is closed");
    assertNotInTransaction(this);
  }

  async query<TRow = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<TRow>> {
    this.#check();
    return this.#direct.query<TRow>(sql, params);
  }

  async exec(script: string): Promise<void> {
    this.#check();
    return this.#direct.exec(script);
  }

  async notify(channel: string, payload: string): Promise<void> {
    this.#check();
    return this.#direct.notify(channel, payload);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.#check();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw toDatabaseError(err);
    }
    const { handle, finish } = retiringHandle(clientQueryable(client));
    let broken: Error | undefined;
    try {
      await handle.exec("BEGIN");
      const result = await runInTransactionScope(this, () => fn(handle));
      await handle.exec("COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackErr) {
        // A client that cannot roll back is in an unknown state: destroy it instead of pooling it.
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      throw err;
    } finally {
      finish();
      client.release(broken);
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    assertChannelName(channel);
    this.#check();
    return this.#listener.subscribe(channel, onPayload);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#listener.close();
      await this.#pool.end();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens a pool on `connectionString` and checks the server answers (so a
 * wrong URL fails here, not on the first request).
 */
export async function openPostgresDatabase(options: PostgresDatabaseOptions): Promise<Database> {
  const onBackgroundError = options.onBackgroundError ?? (() => undefined);
  const pool = new pg.Pool({ ...clientConfig(options.connectionString), max: options.maxConnections ?? 10 });
  // Without a listener an idle client's error (server restart) would crash the process.
  pool.on("error", (err) => onBackgroundError(toDatabaseError(err)));
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw toDatabaseError(err);
  }
  return new PostgresDatabase(pool, new PostgresListener(options.connectionString, onBackgroundError));
}
