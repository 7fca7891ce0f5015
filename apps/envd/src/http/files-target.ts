import { promises as fs, type Stats } from "node:fs";
import { posix } from "node:path";
import { AccessDeniedError, assertAccess } from "../access.js";
import { errnoOf } from "../errors.js";
import type { UserInfo } from "../users.js";
import { FilesHttpError } from "./files-errors.js";

/** Where an upload lands, checked and with its parent directories in place. */
export interface UploadTarget {
  /** The path the file is renamed to (a symlink at the last component is followed). */
  readonly path: string;
  /** Permission bits to give the new file: the replaced file's, else 0644. */
  readonly mode: number;
  /** Directories created for this upload, outermost first (removed again if it fails). */
  readonly createdDirs: readonly string[];
}

/**
 * Checks that `user` may write `path` and creates missing parent directories
 * owned by the user. An existing symlink is followed so the upload replaces
 * the file it points to (as an in-place write would); a dangling one is
 * replaced itself. Directories and other non-regular files are refused (400).
 *
 * Because the upload replaces the directory entry (temp file + rename), a
 * non-root user needs write access to the parent directory as well as to an
 * existing file, and the sticky bit is honoured, exactly as rename(2) would
 * enforce it for that user.
 */
export async function prepareUploadTarget(requested: string, user: UserInfo): Promise<UploadTarget> {
  let path = requested;
  let st = await lstatOrUndefined(path);
  if (st?.isSymbolicLink()) {
    try {
      path = await fs.realpath(path);
      st = await fs.stat(path);
    } catch (err) {
      if (errnoOf(err) !== "ENOENT") throw err;
    }
  }
  if (st?.isDirectory()) throw new FilesHttpError(400, `path '${requested}' is a directory`);
  if (st && !st.isFile() && !st.isSymbolicLink())
    throw new FilesHttpError(400, `path '${requested}' is not a regular file`);
  await assertAccess(path, user, "write");
  if (st) {
    await assertAccess(path, user, "create");
    await assertStickyAllows(path, st, user);
  }
  const createdDirs = await ensureParentDirs(posix.dirname(path), user);
  return { path, mode: st?.isFile() ? st.mode & 0o777 : 0o644, createdDirs };
}

/** Removes directories an upload created, innermost first; ones that gained entries meanwhile stay. */
export async function removeCreatedDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of [...dirs].reverse()) {
    try {
      await fs.rmdir(dir);
    } catch {
      return;
    }
  }
}

async function assertStickyAllows(path: string, st: Stats, user: UserInfo): Promise<void> {
  if (user.uid === 0) return;
  const dir = await fs.stat(posix.dirname(path));
  const sticky = (dir.mode & 0o1000) !== 0;
  if (sticky && st.uid !== user.uid && dir.uid !== user.uid)
    throw new AccessDeniedError(`permission denied: '${path}'`);
}

async function ensureParentDirs(dir: string, user: UserInfo): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; ; d = posix.dirname(d)) {
    const st = await statOrUndefined(d);
    if (st) {
      if (!st.isDirectory()) throw new FilesHttpError(400, `path '${d}' is not a directory`);
      break;
    }
    missing.unshift(d);
    if (d === "/") break;
  }
  const created: string[] = [];
  try {
    for (const d of missing) {
      try {
        await fs.mkdir(d, { mode: 0o755 });
      } catch (err) {
        if (errnoOf(err) === "EEXIST") continue; // a concurrent upload made it first
        throw err;
      }
      created.push(d);
      // lchown: if the user swapped the new directory for a symlink, chown must not follow it.
      await fs.lchown(d, user.uid, user.gid);
    }
  } catch (err) {
    await removeCreatedDirs(created);
    throw err;
  }
  return created;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(path);
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    if (errnoOf(err) === "ENOTDIR") throw new FilesHttpError(400, `a parent of '${path}' is not a directory`);
    throw err;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(path);
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  }
}
