/**
 * `Database` on embedded PGlite (PostgreSQL compiled to WASM, in this process).
 *
 * PGlite has a single connection. Its own `transaction()` only keeps other
 * transactions out: a plain `query()` from another caller would run between
 * the statements of an open transaction and become part of it. So every
 * operation here goes through one FIFO mutex, and a transaction holds it from
 * BEGIN to COMMIT/ROLLBACK.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { lockDataDir } from "./data-dir-lock.js";
import { assertChannelName, type Database, type Queryable, type QueryResult, type SqlParam } from "./database.js";
import { DatabaseError, toDatabaseError } from "./database-error.js";
import { assertNotInTransaction, Mutex, retiringHandle, runInTransactionScope } from "./transaction-scope.js";

/** Where the PGlite database lives. */
export interface PgliteDatabaseOptions {
  /** Data directory on disk, created and locked on open. Undefined: in memory, gone on close. */
  readonly dataDir?: string | undefined;
  /**
   * A data directory tarball (from `dumpPgliteDatabase`) to start from instead
   * of running initdb: tests clone a migrated database in ~0.5 s instead of ~4 s.
   * Only for in-memory databases.
   */
  readonly loadDataDir?: Blob | undefined;
}

const DATE_OID = 1082;

/** Anything with PGlite's query/exec shape: the instance or one of its transactions. */
type PgliteRunner = Pick<Transaction, "query" | "exec">;

function runnerQueryable(runner: PgliteRunner): Queryable {
  return {
    async query<TRow>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<TRow>> {
      try {
        const result = await runner.query<TRow>(sql, params ? [...params] : undefined);
        return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
    async exec(script: string): Promise<void> {
      try {
        await runner.exec(script);
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
    async notify(channel: string, payload: string): Promise<void> {
      assertChannelName(channel);
      try {
        await runner.query("SELECT pg_notify($1, $2)", [channel, payload]);
      } catch (err) {
        throw toDatabaseError(err);
      }
    },
  };
}

class PgliteDatabase implements Database {
  readonly kind = "pglite" as const;
  readonly #pg: PGlite;
  readonly #direct: Queryable;
  readonly #mutex = new Mutex();
  readonly #releaseLock: () => Promise<void>;
  #closed = false;

  constructor(pg: PGlite, releaseLock: () => Promise<void>) {
    this.#pg = pg;
    this.#direct = runnerQueryable(pg);
    this.#releaseLock = releaseLock;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new DatabaseError("the database is closed"));
    try {
      assertNotInTransaction(this);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#mutex.run(() => {
      if (this.#closed) throw new DatabaseError("the database is closed");
      return fn();
    });
  }

  query<TRow = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<TRow>> {
    return this.#serial(() => this.#direct.query<TRow>(sql, params));
  }

  exec(script: string): Promise<void> {
    return this.#serial(() => this.#direct.exec(script));
  }

  notify(channel: string, payload: string): Promise<void> {
    return this.#serial(() => this.#direct.notify(channel, payload));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      let callerError: { error: unknown } | undefined;
      try {
        return await this.#pg.transaction(async (pgTx) => {
          const { handle, finish } = retiringHandle(runnerQueryable(pgTx));
          try {
            return await runInTransactionScope(this, () => fn(handle));
          } catch (err) {
            callerError = { error: err };
            throw err;
          } finally {
            finish();
          }
        });
      } catch (err) {
        // The callback's own error passes through untouched; PGlite's (BEGIN, COMMIT) become DatabaseErrors.
        if (callerError?.error === err) throw err;
        throw toDatabaseError(err);
      }
    });
  }

  /** A gzipped tarball of the data directory (see `dumpPgliteDatabase`). */
  dump(): Promise<Blob> {
    return this.#serial(() => this.#pg.dumpDataDir("gzip"));
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    assertChannelName(channel);
    const stop = await this.#serial(async () => {
      try {
        return await this.#pg.listen(channel, onPayload);
      } catch (err) {
        throw toDatabaseError(err);
      }
    });
    let stopped = false;
    return async () => {
      if (stopped || this.#closed) return;
      stopped = true;
      await this.#serial(async () => {
        try {
          await stop();
        } catch (err) {
          throw toDatabaseError(err);
        }
      });
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let queued work finish, then refuse new work.
    await this.#mutex.run(async () => {
      this.#closed = true;
    });
    try {
      await this.#pg.close();
    } finally {
      await this.#releaseLock();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Opens PGlite in memory or on `dataDir`; see `PgliteDatabaseOptions`. */
export async function openPgliteDatabase(options: PgliteDatabaseOptions = {}): Promise<Database> {
  if (options.dataDir !== undefined && options.loadDataDir !== undefined) {
    throw new TypeError("loadDataDir is only for in-memory PGlite databases");
  }
  const lock = options.dataDir === undefined ? undefined : await lockDataDir(options.dataDir);
  try {
    const pg = await PGlite.create({
      dataDir: lock?.dir,
      loadDataDir: options.loadDataDir,
      // Dates as 'YYYY-MM-DD' strings, like the node-postgres implementation.
      parsers: { [DATE_OID]: (value: string) => value },
    });
    return new PgliteDatabase(pg, async () => lock?.release());
  } catch (err) {
    await lock?.release();
    throw toDatabaseError(err);
  }
}

/**
 * A gzipped tarball (Blob type application/x-gzip) of an open in-memory PGlite
 * database's data directory, to pass as `loadDataDir`. Used by the test
 * fixtures to clone a migrated database.
 */
export async function dumpPgliteDatabase(db: Database): Promise<Blob> {
  if (!(db instanceof PgliteDatabase)) throw new TypeError("dumpPgliteDatabase needs a PGlite database");
  return db.dump();
}

/**
 * The installed PGlite package's version (data directories are only portable
 * within one version: caches of dumps are keyed on it).
 */
export function pglitePackageVersion(): string {
  // The CommonJS entry is dist/index.cjs, two levels below the package.json.
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const manifest = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as {
    version?: unknown;
  };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}
