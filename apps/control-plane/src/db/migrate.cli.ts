/**
 * Applies, rolls back or lists the control plane's SQL migrations:
 *   node --import tsx apps/control-plane/src/db/migrate.cli.ts up|down [n]|status [--pglite DIR]
 * against DATABASE_URL, or the PGlite data directory given with --pglite.
 */
import { type Database, openDatabase } from "./database.js";
import { type MigrationStep, migrateDown, migrateUp, migrationStatus } from "./migrator.js";

/** A parsed command line. */
export interface MigrateCliConfig {
  readonly command: "up" | "down" | "status" | "help";
  /** Migrations to roll back (`down` only). */
  readonly steps: number;
  readonly databaseUrl: string | undefined;
  readonly pgliteDir: string | undefined;
}

/** A bad command line: printed with the usage, without a stack trace. */
class UsageError extends Error {}

const USAGE = `Usage: migrate.cli.ts <up | down [n] | status> [--pglite DIR]

Applies or rolls back the control plane's SQL migrations (src/db/migrations).

  up            apply every pending migration
  down [n]      roll back the n most recently applied migrations (default 1)
  status        list the migrations and when each was applied
  --pglite DIR  use the PGlite data directory DIR (it must not be open elsewhere)
  -h, --help    show this help

The database is DATABASE_URL (a PostgreSQL connection string) unless --pglite is given.
`;

/** The only place the CLI reads the environment (DATABASE_URL). */
export function parseMigrateArgs(args: readonly string[], env: NodeJS.ProcessEnv): MigrateCliConfig {
  let command: MigrateCliConfig["command"] | undefined;
  let steps: number | undefined;
  let pgliteDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return { command: "help", steps: 0, databaseUrl: undefined, pgliteDir };
    if (arg === "--pglite") {
      pgliteDir = args[++i];
      if (!pgliteDir) throw new UsageError("--pglite needs a directory");
    } else if (arg?.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else if (command === undefined) {
      if (arg !== "up" && arg !== "down" && arg !== "status") throw new UsageError(`unknown command ${arg}`);
      command = arg;
    } else if (command === "down" && steps === undefined && /^\d+$/.test(arg ?? "")) {
      steps = Number(arg);
      if (steps < 1) throw new UsageError("down needs a positive number of migrations");
    } else throw new UsageError(`unexpected argument ${arg}`);
  }
  if (command === undefined) throw new UsageError("missing command");
  const databaseUrl = pgliteDir === undefined ? env["DATABASE_URL"] || undefined : undefined;
  if (databaseUrl === undefined && pgliteDir === undefined) {
    throw new UsageError("no database: set DATABASE_URL or pass --pglite DIR");
  }
  return { command, steps: steps ?? 1, databaseUrl, pgliteDir };
}

function printSteps(verb: string, steps: readonly MigrationStep[]): void {
  if (steps.length === 0) process.stdout.write(`nothing to ${verb === "applied" ? "apply" : "roll back"}\n`);
  for (const step of steps) {
    process.stdout.write(`${verb} ${String(step.version).padStart(4, "0")}_${step.name}\n`);
  }
}

async function runCommand(db: Database, config: MigrateCliConfig): Promise<void> {
  if (config.command === "up") return printSteps("applied", await migrateUp(db));
  if (config.command === "down") return printSteps("rolled back", await migrateDown(db, config.steps));
  for (const m of await migrationStatus(db)) {
    const state = m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : "pending";
    const notes = [m.changed && "(file changed since applied)", m.unknown && "(unknown to this code)"].filter(Boolean);
    process.stdout.write(`${String(m.version).padStart(4, "0")}_${m.name.padEnd(28)} ${[state, ...notes].join(" ")}\n`);
  }
}

async function main(): Promise<void> {
  const config = parseMigrateArgs(process.argv.slice(2), process.env);
  if (config.command === "help") return void process.stdout.write(USAGE);
  await using db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDataDir: config.pgliteDir });
  await runCommand(db, config);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`migrate: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  // Messages only: DatabaseError messages carry no values, and a stack adds nothing for an operator.
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
