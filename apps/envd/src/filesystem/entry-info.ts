import { type BigIntStats, promises as fs } from "node:fs";
import { posix } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { type EntryInfo, EntryInfoSchema, FileType } from "@wrenn/protocol/envd/filesystem";
import type { EnvdEnv } from "../env.js";
import { readMetadata } from "./metadata.js";

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

/** Proto file type of a mode; only files and directories have one of their own. */
export function fileTypeOf(mode: number): FileType {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return FileType.FILE;
    case S_IFDIR:
      return FileType.DIRECTORY;
    case S_IFLNK:
      return FileType.SYMLINK;
    default:
      return FileType.UNSPECIFIED;
  }
}

/**
 * `ls`-like permission string of a full st_mode, e.g. "-rw-r--r--",
 * "drwxr-xr-x". Symlinks get "L" (not ls's "l") because E2B envd formats the
 * string with Go's FileMode.String(), and clients compare against that.
 * Set-id and sticky bits are shown the `ls` way (s/S, t/T).
 */
export function permissionString(mode: number): string {
  const typeChar: Readonly<Record<number, string>> = {
    [S_IFDIR]: "d",
    [S_IFLNK]: "L",
    [S_IFBLK]: "b",
    [S_IFCHR]: "c",
    [S_IFIFO]: "p",
    [S_IFSOCK]: "S",
  };
  const chars = [typeChar[mode & S_IFMT] ?? "-"];
  const rwx = "rwxrwxrwx";
  for (let i = 0; i < 9; i++) chars.push(mode & (0o400 >> i) ? (rwx[i] ?? "-") : "-");
  const special = (bit: number, index: number, set: string) => {
    const executable = chars[index] !== "-";
    if (mode & bit) chars[index] = executable ? set : set.toUpperCase();
  };
  special(0o4000, 3, "s");
  special(0o2000, 6, "s");
  special(0o1000, 9, "t");
  return chars.join("");
}

/** Protobuf Timestamp with the full nanosecond precision of a bigint stat time. */
export function timestampFromNs(ns: bigint): Timestamp {
  let seconds = ns / 1_000_000_000n;
  let nanos = ns % 1_000_000_000n;
  // BigInt division truncates toward zero; Timestamp wants nanos in [0, 1e9).
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    seconds -= 1n;
  }
  return create(TimestampSchema, { seconds, nanos: Number(nanos) });
}

/**
 * Builds the EntryInfo of `path` from lstat, the way E2B envd does: for a
 * symlink, `type` and `mode` describe the target, `symlinkTarget` is the
 * canonical target path, and `size`, owner, times and `permissions` stay
 * those of the link itself. A dangling link is reported as
 * `FILE_TYPE_SYMLINK` with the target it names (E2B reports
 * UNSPECIFIED, which the SDK silently drops from listings).
 *
 * `displayPath` is the path the client should see (`path` and `name` are
 * taken from it); ListDir passes paths under the directory as requested,
 * while the file is read at `path`, its canonical location.
 *
 * Throws the Node error of lstat (ENOENT for a missing file), for the
 * caller to translate with `toConnectError`.
 */
export async function entryInfo(env: EnvdEnv, path: string, displayPath: string = path): Promise<EntryInfo> {
  const st = await fs.lstat(path, { bigint: true });
  return entryInfoFromStats(env, { path, displayPath, st });
}

/** uid/gid → name lookups, memoised for the length of one listing. */
export interface OwnerNames {
  user(uid: number): string;
  group(gid: number): string;
}

/**
 * OwnerNames that ask the account database once per id. Each database
 * lookup re-checks /etc/passwd's mtime, which dominates a 10 000-entry
 * listing otherwise; a listing is short enough to not care about a
 * `useradd` racing with it.
 */
export function memoisedOwnerNames(env: EnvdEnv): OwnerNames {
  const memo = (lookup: (id: number) => string) => {
    const names = new Map<number, string>();
    return (id: number): string => {
      const known = names.get(id);
      if (known !== undefined) return known;
      const name = lookup(id);
      names.set(id, name);
      return name;
    };
  };
  return {
    user: memo((uid) => env.users.userName(uid)),
    group: memo((gid) => env.users.groupName(gid)),
  };
}

/**
 * Like `entryInfo`, for a caller that already holds the lstat result
 * (saves a syscall per entry in large listings) and may share `names`.
 */
export async function entryInfoFromStats(
  env: EnvdEnv,
  input: { readonly path: string; readonly displayPath: string; readonly st: BigIntStats; readonly names?: OwnerNames },
): Promise<EntryInfo> {
  const { path, displayPath, st } = input;
  const names = input.names ?? memoisedOwnerNames(env);
  const linkMode = Number(st.mode);
  let type = fileTypeOf(linkMode);
  let mode = linkMode & 0o7777;
  let symlinkTarget: string | undefined;
  if (type === FileType.SYMLINK) {
    const target = await resolveLink(path);
    symlinkTarget = target.path;
    if (target.mode !== undefined) {
      type = fileTypeOf(target.mode);
      mode = target.mode & 0o7777;
    }
  }
  return create(EntryInfoSchema, {
    name: posix.basename(displayPath) || "/",
    type,
    path: displayPath,
    size: st.size,
    mode,
    permissions: permissionString(linkMode),
    owner: names.user(Number(st.uid)),
    group: names.group(Number(st.gid)),
    modifiedTime: timestampFromNs(st.mtimeNs),
    symlinkTarget,
    metadata: await readMetadata(path),
  });
}

/** Canonical target of a link and its mode; a dangling link gives the lexical target only. */
async function resolveLink(path: string): Promise<{ path: string; mode: number | undefined }> {
  try {
    const target = await fs.realpath(path);
    const st = await fs.stat(target);
    return { path: target, mode: st.mode };
  } catch {
    try {
      const raw = await fs.readlink(path);
      return { path: posix.resolve(posix.dirname(path), raw), mode: undefined };
    } catch {
      return { path, mode: undefined };
    }
  }
}
