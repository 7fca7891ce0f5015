/**
 * Finds the PostgreSQL server binaries and the OS account to run them as, for
 * the test suite's private cluster (see postgres-server.ts).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The programs the private test cluster needs. */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
  /** Major version, e.g. 15. */
  readonly version: number;
}

/** Who the server runs as: PostgreSQL refuses to run as root. */
export interface ServerAccount {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

const DEBIAN_ROOT = "/usr/lib/postgresql";
const MIN_VERSION = 15;

/**
 * The newest Debian PostgreSQL ≥ 15 under /usr/lib/postgresql/<major>/bin, or
 * the directory in `binDir` (tests pass WRENN_PG_BIN). Throws an Error that
 * says how to install the server when none is found.
 */
export function findPostgresBinaries(binDir?: string): PostgresBinaries {
  const candidates: { dir: string; version: number }[] = [];
  if (binDir) candidates.push({ dir: binDir, version: Number.NaN });
  else if (existsSync(DEBIAN_ROOT)) {
    for (const entry of readdirSync(DEBIAN_ROOT)) {
      const version = Number(entry);
      if (Number.isInteger(version) && version >= MIN_VERSION) {
        candidates.push({ dir: join(DEBIAN_ROOT, entry, "bin"), version });
      }
    }
    candidates.sort((a, b) => b.version - a.version);
  }
  for (const { dir, version } of candidates) {
    const initdb = join(dir, "initdb");
    const postgres = join(dir, "postgres");
    if (existsSync(initdb) && existsSync(postgres)) return { initdb, postgres, version };
  }
  const where = binDir ?? `${DEBIAN_ROOT}/<major ≥ ${MIN_VERSION}>/bin`;
  throw new Error(
    `PostgreSQL server binaries (initdb, postgres) not found in ${where}. ` +
      "The database tests run a private PostgreSQL cluster: install Debian's server package " +
      "(apt-get install postgresql; ./wrenn test installs it) or set WRENN_PG_BIN to a bin directory.",
  );
}

/**
 * The account to run the server as: this process's own unless it is root,
 * in which case the `postgres` system user from /etc/passwd (created by the
 * Debian package). Throws when root and no such user exists.
 */
export function serverAccount(): ServerAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === "postgres" && uid && gid) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error("running as root, but there is no 'postgres' user to run the test PostgreSQL server as");
}
