import { promises as fs } from "node:fs";
import { posix } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { assertAccess } from "../access.js";
import { errnoOf } from "../errors.js";
import type { UserInfo } from "../users.js";

/**
 * Creates directory `path` and any missing parents, each owned by `user`
 * (mode 0755 before umask), as E2B's MakeDir does. Throws
 * ConnectError(AlreadyExists) when `path` is already a directory (the SDK
 * turns that into `false`), InvalidArgument when something else is there,
 * PermissionDenied when the user could not create it.
 */
export async function makeDir(path: string, user: UserInfo): Promise<void> {
  const existing = await fs.stat(path).catch((err: unknown) => {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw err;
  });
  if (existing?.isDirectory()) throw new ConnectError(`'${path}': directory already exists`, Code.AlreadyExists);
  if (existing) throw new ConnectError(`'${path}': exists and is not a directory`, Code.InvalidArgument);
  await assertAccess(path, user, "create");
  await ensureDir(path, user);
}

/**
 * `mkdir -p` that chowns every directory it creates to `user`, so a
 * request made as `user` does not leave root-owned directories behind
 * (envd itself runs as root). Existing directories are left alone;
 * a non-directory in the way fails with ENOTDIR or EEXIST.
 */
export async function ensureDir(path: string, user: UserInfo): Promise<void> {
  const missing: string[] = [];
  for (let dir = posix.normalize(path); ; dir = posix.dirname(dir)) {
    const st = await fs.stat(dir).catch(() => undefined);
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
      break;
    }
    missing.unshift(dir);
    if (dir === "/") break;
  }
  for (const dir of missing) {
    try {
      await fs.mkdir(dir, { mode: 0o755 });
    } catch (err) {
      // Someone else created it meanwhile: fine if it is a directory.
      if (errnoOf(err) === "EEXIST" && (await fs.stat(dir)).isDirectory()) continue;
      throw err;
    }
    await fs.chown(dir, user.uid, user.gid);
  }
}
