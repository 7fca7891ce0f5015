/**
 * Applies and rolls back the plain-SQL migrations, recording them in
 * `schema_migrations`. Each migration runs in its own transaction together
 * with its bookkeeping row, under a transaction-level advisory lock, so
 * several control-plane replicas starting at once apply each migration once.
 */
import type { Database, Queryable } from "./database.js";
import { loadMigrations, type Migration } from "./migration-files.js";

/** Where the migrations come from. @default the control plane's own (`loadMigrations()`) */
export interface MigratorOptions {
  readonly migrations?: readonly Migration[];
}

/** A migration that was applied or rolled back. */
export interface MigrationStep {
  readonly version: number;
  readonly name: string;
}

/** One line of `migrationStatus`. */
export interface MigrationStatus extends MigrationStep {
  /** When it was applied; undefined while pending. */
  readonly appliedAt: Date | undefined;
  /** Applied, but the up script has changed since (the database may differ from a fresh one). */
  readonly changed: boolean;
  /** Applied in the database but unknown to this code (the schema is newer than the code). */
  readonly unknown: boolean;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  appliedAt: Date;
}

/** Any fixed number: it only has to differ from the application's other advisory locks (it has none). */
const MIGRATION_LOCK_KEY = 727_001;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  checksum   text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

async function lockAndPrepare(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
  await tx.exec(CREATE_TABLE);
}

async function appliedRows(tx: Queryable): Promise<AppliedRow[]> {
  const { rows } = await tx.query<AppliedRow>(
    `SELECT version, name, checksum, applied_at AS "appliedAt" FROM schema_migrations ORDER BY version`,
  );
  return rows;
}

function label(step: MigrationStep): string {
  return `${String(step.version).padStart(4, "0")}_${step.name}`;
}

/**
 * Applies every pending migration in version order and returns them. Throws
 * (before changing anything) when the database has migrations this code does
 * not know: running older code on a newer schema is not safe.
 */
export async function migrateUp(db: Database, options: MigratorOptions = {}): Promise<MigrationStep[]> {
  const migrations = options.migrations ?? (await loadMigrations());
  const known = new Set(migrations.map((m) => m.version));
  const applied = await db.transaction(async (tx) => {
    await lockAndPrepare(tx);
    return appliedRows(tx);
  });
  const unknown = applied.filter((row) => !known.has(row.version));
  if (unknown.length > 0) {
    throw new Error(`the database has migrations this code does not know: ${unknown.map(label).join(", ")}`);
  }
  const done = new Set(applied.map((row) => row.version));
  const steps: MigrationStep[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    const ran = await db.transaction(async (tx) => {
      await lockAndPrepare(tx);
      // Another replica may have applied it while we waited for the lock.
      const again = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version]);
      if (again.rowCount > 0) return false;
      await runScript(tx, migration, "up");
      await tx.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (ran) steps.push({ version: migration.version, name: migration.name });
  }
  return steps;
}

/**
 * Rolls back the `steps` most recently applied migrations (newest first) and
 * returns them; fewer when fewer are applied. @default steps 1
 */
export async function migrateDown(db: Database, steps = 1, options: MigratorOptions = {}): Promise<MigrationStep[]> {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError("steps must be a positive integer");
  const migrations = new Map((options.migrations ?? (await loadMigrations())).map((m) => [m.version, m]));
  const rolledBack: MigrationStep[] = [];
  for (let i = 0; i < steps; i++) {
    const step = await db.transaction(async (tx) => {
      await lockAndPrepare(tx);
      const latest = (await appliedRows(tx)).at(-1);
      if (!latest) return undefined;
      const migration = migrations.get(latest.version);
      if (!migration) throw new Error(`cannot roll back ${label(latest)}: this code has no such migration`);
      await runScript(tx, migration, "down");
      await tx.query("DELETE FROM schema_migrations WHERE version = $1", [latest.version]);
      return { version: latest.version, name: latest.name };
    });
    if (!step) break;
    rolledBack.push(step);
  }
  return rolledBack;
}

/** Every known migration with whether and when it was applied, plus applied ones this code does not know. */
export async function migrationStatus(db: Database, options: MigratorOptions = {}): Promise<MigrationStatus[]> {
  const migrations = options.migrations ?? (await loadMigrations());
  const applied = new Map(
    (
      await db.transaction(async (tx) => {
        await lockAndPrepare(tx);
        return appliedRows(tx);
      })
    ).map((row) => [row.version, row]),
  );
  const status: MigrationStatus[] = migrations.map((m) => {
    const row = applied.get(m.version);
    applied.delete(m.version);
    return {
      version: m.version,
      name: m.name,
      appliedAt: row?.appliedAt,
      changed: row !== undefined && row.checksum !== m.checksum,
      unknown: false,
    };
  });
  for (const row of applied.values()) {
    status.push({ version: row.version, name: row.name, appliedAt: row.appliedAt, changed: false, unknown: true });
  }
  return status.sort((a, b) => a.version - b.version);
}

async function runScript(tx: Queryable, migration: Migration, direction: "up" | "down"): Promise<void> {
  try {
    await tx.exec(direction === "up" ? migration.up : migration.down);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`migration ${label(migration)} (${direction}) failed: ${reason}`, { cause: err });
  }
}
