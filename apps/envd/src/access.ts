import { promises as fs, type Stats } from "node:fs";
import { posix } from "node:path";
import type { UserInfo } from "./users.js";

/** Thrown when the request's user may not perform an operation on a path. */
export class AccessDeniedError extends Error {
  override name = "AccessDeniedError";
  readonly code = "EACCES";
}

/**
 * What the user wants to do with a path. `stat` only needs every ancestor
 * to be searchable, as for lstat(2).
 */
export type AccessKind = "read" | "write" | "create" | "remove" | "list" | "stat";

const R = 4;
const W = 2;
const X = 1;

function allowed(st: Stats, user: UserInfo, bits: number): boolean {
  let granted: number;
  if (st.uid === user.uid) granted = (st.mode >> 6) & 7;
  else if (user.groups.includes(st.gid)) granted = (st.mode >> 3) & 7;
  else granted = st.mode & 7;
  return (granted & bits) === bits;
}

/**
 * Checks, the way the kernel would for `user`, that `path` may be used as
 * `kind`. envd runs as root, so without this a request made as `user` could
 * read /root or overwrite /etc/shadow. Root is never restricted. Missing
 * files are left for the operation itself to report (ENOENT), except that
 * `create` checks the nearest existing ancestor.
 */
export async function assertAccess(path: string, user: UserInfo, kind: AccessKind): Promise<void> {
  if (user.uid === 0) return;
  const target = posix.normalize(path);
  const parent = posix.dirname(target);
  // Every ancestor must be searchable.
  const ancestors: string[] = [];
  for (let dir = parent; ; dir = posix.dirname(dir)) {
    ancestors.unshift(dir);
    if (dir === "/") break;
  }
  let lastExisting: { path: string; st: Stats } | undefined;
  for (const dir of ancestors) {
    const st = await statOrUndefined(dir);
    if (!st) break;
    if (!allowed(st, user, X)) throw new AccessDeniedError(`permission denied: '${dir}'`);
    lastExisting = { path: dir, st };
  }
  const st = await statOrUndefined(target);
  switch (kind) {
    case "stat":
      return;
    case "read":
      if (st && !allowed(st, user, R)) throw new AccessDeniedError(`permission denied: '${target}'`);
      return;
    case "list":
      if (st && !allowed(st, user, R | X)) throw new AccessDeniedError(`permission denied: '${target}'`);
      return;
    case "write":
      if (st) {
        if (!allowed(st, user, W)) throw new AccessDeniedError(`permission denied: '${target}'`);
        return;
      }
      if (lastExisting && !allowed(lastExisting.st, user, W | X)) {
        throw new AccessDeniedError(`permission denied: '${lastExisting.path}'`);
      }
      return;
    case "create":
      if (lastExisting && !allowed(lastExisting.st, user, W | X)) {
        throw new AccessDeniedError(`permission denied: '${lastExisting.path}'`);
      }
      return;
    case "remove": {
      if (lastExisting && !allowed(lastExisting.st, user, W | X)) {
        throw new AccessDeniedError(`permission denied: '${lastExisting.path}'`);
      }
      // In a sticky directory (like /tmp) only the owner of an entry, or of
      // the directory, may remove or rename it.
      const entry = await lstatOrUndefined(path);
      const dir = lastExisting?.path === parent ? lastExisting.st : undefined;
      if (entry && dir && (dir.mode & STICKY) !== 0 && entry.uid !== user.uid && dir.uid !== user.uid) {
        throw new AccessDeniedError(`permission denied: '${posix.normalize(path)}'`);
      }
      return;
    }
  }
}

const STICKY = 0o1000;

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(path);
  } catch {
    return undefined;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(path);
  } catch {
    return undefined;
  }
}
