/**
 * Data directories PGlite test databases start from. Creating a PGlite
 * database runs initdb inside WASM (4 s on an idle machine, far more on a busy
 * one); loading a dumped directory takes a fraction of that. Every test file
 * runs in its own process, so the two dumps — empty and migrated — are cached
 * on disk under node_modules/.cache/wrenn-test, keyed on the PGlite version
 * (and, for the migrated one, on the migrations' checksums): made once, reused
 * by every later process and run until PGlite or a migration changes.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMigrations } from "../db/migration-files.js";
import { migrateUp } from "../db/migrator.js";
import { dumpPgliteDatabase, openPgliteDatabase, pglitePackageVersion } from "../db/pglite-database.js";

type SnapshotKind = "empty" | "migrated";

const GZIP = "application/x-gzip";
const inProcess = new Map<SnapshotKind, Promise<Blob>>();

/** The nearest node_modules above this file, where tool caches conventionally live; undefined if none. */
function cacheDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "node_modules"))) return join(dir, "node_modules", ".cache", "wrenn-test");
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function cacheKey(kind: SnapshotKind): Promise<string> {
  const hash = createHash("sha256").update(pglitePackageVersion());
  if (kind === "migrated") for (const m of await loadMigrations()) hash.update(`${m.version}:${m.checksum}:${m.down}`);
  return hash.digest("hex").slice(0, 16);
}

async function build(kind: SnapshotKind): Promise<Blob> {
  const base = kind === "migrated" ? await pgliteSnapshot("empty") : undefined;
  await using db = await openPgliteDatabase({ loadDataDir: base });
  if (kind === "migrated") await migrateUp(db);
  return dumpPgliteDatabase(db);
}

async function load(kind: SnapshotKind): Promise<Blob> {
  const dir = cacheDir();
  if (!dir) return build(kind);
  const file = join(dir, `pglite-${kind}-${await cacheKey(kind)}.tar.gz`);
  const cached = await readFile(file).catch(() => undefined);
  if (cached) return new Blob([cached], { type: GZIP });
  const dump = await build(kind);
  await mkdir(dir, { recursive: true });
  // Dumps of older PGlite versions or migrations are useless now.
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(`pglite-${kind}-`) && entry !== basename(file)) await rm(join(dir, entry), { force: true });
  }
  // Write then rename: a concurrent reader sees the whole file or none.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, new Uint8Array(await dump.arrayBuffer()));
  await rename(tmp, file);
  return dump;
}

/** The empty (freshly initialised) or fully migrated data directory, as a `loadDataDir` Blob. */
export function pgliteSnapshot(kind: SnapshotKind): Promise<Blob> {
  let snapshot = inProcess.get(kind);
  if (!snapshot) {
    snapshot = load(kind);
    inProcess.set(kind, snapshot);
  }
  return snapshot;
}
