import { promises as fs } from "node:fs";
import { posix } from "node:path";
import { AccessDeniedError, assertAccess } from "../access.js";
import type { UserInfo } from "../users.js";
import { MAY_READ, MAY_SEARCH, MAY_WRITE, userMay } from "./permission-bits.js";

/**
 * Removes a file, symlink (not its target) or whole directory tree.
 * Throws ENOENT (→ NotFound, which the SDK reports as FileNotFoundError)
 * for a missing path. For an unprivileged user the whole tree is checked
 * first, the way `rm -r` run as that user would fail: every directory in
 * it must be readable, searchable and writable. Checking before deleting
 * keeps a denied request from removing half a tree.
 */
export async function removePath(path: string, user: UserInfo): Promise<void> {
  const st = await fs.lstat(path);
  await assertAccess(path, user, "remove");
  if (user.uid !== 0 && st.isDirectory()) await assertTreeRemovable(path, user);
  await fs.rm(path, { recursive: true, force: false, maxRetries: 2 });
}

async function assertTreeRemovable(root: string, user: UserInfo): Promise<void> {
  const stack = [root];
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    const st = await fs.lstat(dir);
    if (!userMay(st, user, MAY_READ | MAY_SEARCH | MAY_WRITE)) {
      throw new AccessDeniedError(`permission denied: '${dir}'`);
    }
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) stack.push(posix.join(dir, entry.name));
    }
  }
}
