import { promises as fs } from "node:fs";
import { posix } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntryInfo } from "@wrenn/protocol/envd/filesystem";
import { assertAccess } from "../access.js";
import type { EnvdEnv } from "../env.js";
import type { UserInfo } from "../users.js";
import { entryInfoFromStats, memoisedOwnerNames, type OwnerNames } from "./entry-info.js";
import { MAY_READ, MAY_SEARCH, userMay } from "./permission-bits.js";

/** Entries built concurrently within one directory. */
const CONCURRENCY = 64;
/** A listing larger than this is refused rather than built in memory. */
const MAX_ENTRIES = 250_000;

/**
 * Lists `requested` down to `depth` levels (1 = direct children), in
 * lexical pre-order like Go's filepath.WalkDir (a directory is followed by
 * its contents). Symlinks are not followed, except the requested path
 * itself. Entry paths are re-rooted on `requested`, not on its canonical
 * form, so a symlinked parent stays visible to the client.
 *
 * Throws NotFound (missing), InvalidArgument (not a directory),
 * PermissionDenied (the user cannot list it), ResourceExhausted (more than
 * 250 000 entries). Subdirectories the user may not list, or that vanish
 * during the walk, are listed but not descended into, as `ls -R` does.
 */
export async function listDir(env: EnvdEnv, user: UserInfo, requested: string, depth: number): Promise<EntryInfo[]> {
  await assertAccess(requested, user, "list");
  const canonical = await fs.realpath(requested);
  await assertAccess(canonical, user, "list");
  const st = await fs.stat(canonical);
  if (!st.isDirectory()) throw new ConnectError(`'${requested}': not a directory`, Code.InvalidArgument);
  const out: EntryInfo[] = [];
  await walk({ env, user, depth, out, names: memoisedOwnerNames(env) }, canonical, requested, 1);
  return out;
}

interface Walk {
  readonly env: EnvdEnv;
  readonly user: UserInfo;
  readonly depth: number;
  readonly out: EntryInfo[];
  readonly names: OwnerNames;
}

async function walk(w: Walk, dir: string, displayDir: string, level: number): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (level === 1) throw err;
    return;
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (w.out.length + names.length > MAX_ENTRIES) {
    throw new ConnectError("directory listing too large; use a smaller depth", Code.ResourceExhausted);
  }
  for (let i = 0; i < names.length; i += CONCURRENCY) {
    const chunk = names.slice(i, i + CONCURRENCY);
    const built = await Promise.all(
      chunk.map(async (name) => {
        const path = posix.join(dir, name);
        try {
          const st = await fs.lstat(path, { bigint: true });
          const entry = await entryInfoFromStats(w.env, {
            path,
            displayPath: posix.join(displayDir, name),
            st,
            names: w.names,
          });
          const descend = st.isDirectory() && level < w.depth && userMay(st, w.user, MAY_READ | MAY_SEARCH);
          return { name, path, entry, descend };
        } catch {
          return undefined; // removed while listing
        }
      }),
    );
    for (const item of built) {
      if (!item) continue;
      w.out.push(item.entry);
      if (item.descend) await walk(w, item.path, posix.join(displayDir, item.name), level + 1);
    }
  }
}
