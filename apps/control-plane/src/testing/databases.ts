/**
 * Test databases on both backends, each a fresh, disposable database:
 *
 * ```ts
 * for (const backend of databaseBackends) {
 *   describe(`users repo (${backend.kind})`, () => {
 *     test("…", async () => {
 *       await using db = await backend.open();   // migrated, empty but for the seeds
 *       …
 *     });
 *   });
 * }
 * ```
 *
 * `pglite`: in memory, loaded from a cached dump of an empty or migrated data
 * directory (see pglite-snapshots.ts) instead of running initdb each time.
 * `postgres`: a real PostgreSQL
 * server (one private cluster per test run, see postgres-server.ts); each
 * database is `CREATE DATABASE t_<random> TEMPLATE wrenn_template` and is
 * dropped on dispose.
 */
import { randomBytes } from "node:crypto";
import type { Database, DatabaseKind, Queryable, QueryResult, SqlParam } from "../db/database.js";
import { openPgliteDatabase } from "../db/pglite-database.js";
import { openPostgresDatabase } from "../db/postgres-database.js";
import { pgliteSnapshot } from "./pglite-snapshots.js";
import { sharedPostgresServer } from "./postgres-server.js";
import { serverUrl } from "./postgres-server-state.js";

/** What a test gets: a `Database` it owns, which `close()`/dispose removes. */
export interface TestDatabase extends Database {
  /** Connection string of a `postgres` test database (e.g. to start a second pool or a CLI); undefined for PGlite. */
  readonly connectionString: string | undefined;
}

/** Options of `usePglite` / `usePostgres`. */
export interface TestDatabaseOptions {
  /** Apply every migration (schema + seeds). @default true; false gives an empty database for migrator tests. */
  readonly migrated?: boolean;
}

/** One backend of the contract loop. */
export interface TestBackend {
  readonly kind: DatabaseKind;
  open(options?: TestDatabaseOptions): Promise<TestDatabase>;
}

/** Delegates to `inner` and runs `cleanup` after closing it. */
class OwnedDatabase implements TestDatabase {
  readonly kind: DatabaseKind;
  readonly connectionString: string | undefined;
  readonly #inner: Database;
  readonly #cleanup: () => Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(inner: Database, connectionString: string | undefined, cleanup: () => Promise<void>) {
    this.kind = inner.kind;
    this.#inner = inner;
    this.connectionString = connectionString;
    this.#cleanup = cleanup;
  }

  query<TRow = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<TRow>> {
    return this.#inner.query<TRow>(sql, params);
  }
  exec(script: string): Promise<void> {
    return this.#inner.exec(script);
  }
  notify(channel: string, payload: string): Promise<void> {
    return this.#inner.notify(channel, payload);
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#inner.transaction(fn);
  }
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    return this.#inner.listen(channel, onPayload);
  }
  close(): Promise<void> {
    this.#closed ??= this.#inner.close().then(() => this.#cleanup());
    return this.#closed;
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** An in-memory PGlite database, migrated unless `migrated: false`. */
export async function usePglite(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const snapshot = await pgliteSnapshot(options.migrated === false ? "empty" : "migrated");
  const db = await openPgliteDatabase({ loadDataDir: snapshot });
  return new OwnedDatabase(db, undefined, async () => undefined);
}

/** A fresh database on the run's private PostgreSQL server, migrated unless `migrated: false`; dropped on close. */
export async function usePostgres(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const server = await sharedPostgresServer();
  const name = `t_${randomBytes(6).toString("hex")}`;
  const template = options.migrated === false ? "template0" : server.templateDatabase;
  const admin = await openPostgresDatabase({ connectionString: serverUrl(server, "postgres"), maxConnections: 1 });
  try {
    await admin.exec(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.close();
  }
  const connectionString = serverUrl(server, name);
  const db = await openPostgresDatabase({ connectionString });
  return new OwnedDatabase(db, connectionString, async () => {
    const dropper = await openPostgresDatabase({ connectionString: serverUrl(server, "postgres"), maxConnections: 1 });
    try {
      // FORCE: a test that leaked a connection (a second pool, a CLI) must not keep its database alive.
      await dropper.exec(`DROP DATABASE ${name} WITH (FORCE)`);
    } finally {
      await dropper.close();
    }
  });
}

/** Both backends, PGlite first: the contract loop of every repository test. */
export const databaseBackends: readonly TestBackend[] = [
  { kind: "pglite", open: usePglite },
  { kind: "postgres", open: usePostgres },
];

/** Opens one fresh database per backend (for tests that compare the two directly). */
export async function useDatabases(options: TestDatabaseOptions = {}): Promise<TestDatabase[]> {
  const opened: TestDatabase[] = [];
  try {
    for (const backend of databaseBackends) opened.push(await backend.open(options));
    return opened;
  } catch (err) {
    for (const db of opened) await db.close();
    throw err;
  }
}
