/**
 * An exclusive lock on a PGlite data directory. PGlite is PostgreSQL running
 * inside this process with no postmaster to refuse a second opener: two
 * processes (say the control plane and the migrate CLI) writing the same
 * directory would corrupt it. The lock is a file holding the owner's PID;
 * a file left by a process that no longer exists is taken over.
 */
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { processAlive } from "@wrenn/kit";
import { DatabaseError } from "./database-error.js";

const LOCK_FILE = "wrenn.lock";
/** Directories locked by this process (a second open in-process is as unsafe as one from another process). */
const lockedHere = new Set<string>();

/** Held lock; `release` is idempotent. */
export interface DataDirLock {
  readonly dir: string;
  release(): Promise<void>;
}

/** Creates `dir` if needed (mode 0700) and locks it, or throws a DatabaseError naming the process holding it. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const abs = resolve(dir);
  if (lockedHere.has(abs)) throw new DatabaseError(`PGlite data directory ${abs} is already open in this process`);
  await mkdir(abs, { recursive: true, mode: 0o700 });
  const file = join(abs, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      lockedHere.add(abs);
      let released = false;
      return {
        dir: abs,
        release: async () => {
          if (released) return;
          released = true;
          lockedHere.delete(abs);
          await unlink(file).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new DatabaseError(`PGlite data directory ${abs} is in use by process ${owner}`);
      }
      // Left behind by a process that is gone (or by an earlier life of this PID): take it over.
      await unlink(file).catch(() => undefined);
    }
  }
  throw new DatabaseError(`could not lock PGlite data directory ${abs}: another process keeps taking the lock`);
}
