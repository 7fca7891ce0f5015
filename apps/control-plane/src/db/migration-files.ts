/**
 * Reads the plain-SQL migrations: `NNNN_name.up.sql` and `NNNN_name.down.sql`
 * pairs in one directory, applied in version order.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One migration: both scripts and a checksum of the up script (to notice edits after it was applied). */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: string;
  readonly down: string;
  /** hex SHA-256 of the up script */
  readonly checksum: string;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;

/**
 * The migrations shipped with the control plane. They live next to this file
 * in `src/db/migrations`; the TypeScript build does not copy .sql files, so
 * code running from `dist/db/` reads them from the sibling `src/db/migrations`.
 */
export function defaultMigrationsDir(): string {
  const here = fileURLToPath(new URL("./migrations/", import.meta.url));
  if (existsSync(here)) return here;
  const fromDist = fileURLToPath(new URL("../../src/db/migrations/", import.meta.url));
  if (existsSync(fromDist)) return fromDist;
  throw new Error(`migrations directory not found (looked in ${here} and ${fromDist})`);
}

/**
 * Loads and checks every migration in `dir`: names must match
 * `NNNN_name.(up|down).sql`, each version needs both files under one name,
 * and versions must be unique. Throws an Error naming the offending file.
 */
export async function loadMigrations(dir: string = defaultMigrationsDir()): Promise<Migration[]> {
  const byVersion = new Map<number, { name: string; up?: string; down?: string }>();
  for (const file of (await readdir(dir)).sort()) {
    if (!file.endsWith(".sql")) continue;
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`migration file ${file} is not named NNNN_name.up.sql or NNNN_name.down.sql`);
    const [, digits = "", name = "", direction] = match;
    const version = Number(digits);
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name) throw new Error(`migration ${digits} has two names: ${entry.name} and ${name}`);
    const text = await readFile(join(dir, file), "utf8");
    if (direction === "up") entry.up = text;
    else entry.down = text;
    byVersion.set(version, entry);
  }
  const migrations: Migration[] = [];
  for (const [version, { name, up, down }] of [...byVersion].sort(([a], [b]) => a - b)) {
    const label = `${String(version).padStart(4, "0")}_${name}`;
    if (up === undefined) throw new Error(`migration ${label} has no .up.sql file`);
    if (down === undefined) throw new Error(`migration ${label} has no .down.sql file`);
    migrations.push({ version, name, up, down, checksum: createHash("sha256").update(up).digest("hex") });
  }
  return migrations;
}
