/**
 * The data-access interface the control plane is written against, with two
 * implementations: embedded PGlite (the zero-setup default) and a node-postgres
 * pool for a real PostgreSQL server (ARCHITECTURE decision 4). Repositories
 * take a `Queryable`, so the same repository works on the database or inside
 * a transaction.
 *
 * Both implementations return the same JavaScript types:
 *   - int2/int4/int8/float8 → number (int8 above 2^53 loses precision; we store no such values)
 *   - numeric → string (cast to float8 in SQL when a number is wanted)
 *   - timestamptz → Date (millisecond precision: select `to_char(…, 'US')` when microseconds matter)
 *   - date → 'YYYY-MM-DD' string (never a Date: a local-midnight Date shifts across time zones)
 *   - json/jsonb → parsed value; arrays → arrays; uuid → lowercase string
 */

/**
 * A value bound to a `$n` placeholder. JSON goes in as a string made with
 * `JSON.stringify` and is cast in SQL (`$1::jsonb`): node-postgres would turn
 * a JavaScript array into a PostgreSQL array literal, PGlite would not.
 * Arrays are for array parameters (`$1::uuid[]`, `$1::text[]`); `Uint8Array` is for bytea.
 */
export type SqlParam = string | number | boolean | Date | Uint8Array | null | readonly string[] | readonly number[];

/** Rows of one statement; `rowCount` is the rows returned (SELECT) or changed (INSERT/UPDATE/DELETE). */
export interface QueryResult<TRow> {
  readonly rows: TRow[];
  readonly rowCount: number;
}

/** What a repository needs: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one statement with parameters. Throws `DatabaseError`. */
  query<TRow = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<TRow>>;
  /** Runs a parameterless script of one or more statements (migrations, test setup). Throws `DatabaseError`. */
  exec(script: string): Promise<void>;
  /**
   * `pg_notify(channel, payload)`. Inside a transaction the notification is
   * delivered on COMMIT and dropped on ROLLBACK (PostgreSQL semantics).
   */
  notify(channel: string, payload: string): Promise<void>;
}

/** Which implementation is behind a `Database`. */
export type DatabaseKind = "pglite" | "postgres";

/** A connection to the control plane's PostgreSQL database. Close it (or `await using`) when done. */
export interface Database extends Queryable, AsyncDisposable {
  readonly kind: DatabaseKind;
  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; ROLLBACK if `fn` throws
   * (the error is rethrown). `tx` must not be used after `fn` settles.
   * Calling the `Database` itself from inside `fn` throws instead of
   * deadlocking (PGlite) or silently running outside the transaction (pool):
   * use `tx`. No nesting.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel` (lowercase letters, digits, `_`).
   * Resolves once LISTEN is active; returns the unsubscribe function.
   * Notifications are wake-up hints: one sent while a server connection is
   * being re-established is lost, so consumers re-read their table when woken
   * and also poll now and then.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Closes every connection; idempotent. Queries afterwards throw. */
  close(): Promise<void>;
}

/** How `openDatabase` picks a backend. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL connection string (`DATABASE_URL`); when set, PGlite is not used. */
  readonly databaseUrl?: string | undefined;
  /**
   * PGlite data directory (e.g. `$WRENN_DIR/pgdata`), created on first use and
   * locked against a second process. Undefined with no `databaseUrl`: in memory.
   */
  readonly pgliteDataDir?: string | undefined;
  /** Pool size for PostgreSQL. @default 10 */
  readonly maxConnections?: number | undefined;
}

/** Opens the database named by `options`: PostgreSQL when `databaseUrl` is set, else PGlite. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const { openPostgresDatabase } = await import("./postgres-database.js");
    return openPostgresDatabase({ connectionString: options.databaseUrl, maxConnections: options.maxConnections });
  }
  const { openPgliteDatabase } = await import("./pglite-database.js");
  return openPgliteDatabase({ dataDir: options.pgliteDataDir });
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Throws unless `channel` is a plain lowercase identifier. LISTEN takes an
 * identifier, not a parameter, so the name is checked rather than escaped.
 * @internal shared by both implementations
 */
export function assertChannelName(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) {
    throw new TypeError(
      "notification channel names are 1-63 lowercase letters, digits or '_', not starting with a digit",
    );
  }
}
