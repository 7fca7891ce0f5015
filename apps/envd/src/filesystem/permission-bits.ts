import type { UserInfo } from "../users.js";

/** Permission bits as in st_mode's "other" triple. */
export const MAY_READ = 4;
export const MAY_WRITE = 2;
export const MAY_SEARCH = 1;

/**
 * Whether `user` holds every bit of `bits` on a file with this owner, group
 * and mode — the kernel's owner/group/other rule (no ACLs, no capabilities
 * except root's). For walks (ListDir, recursive Remove and WatchDir) that
 * already hold each entry's lstat and whose ancestors `assertAccess`
 * checked; re-running `assertAccess` per entry would re-stat every ancestor.
 */
export function userMay(
  st: { readonly mode: number | bigint; readonly uid: number | bigint; readonly gid: number | bigint },
  user: UserInfo,
  bits: number,
): boolean {
  if (user.uid === 0) return true;
  const mode = Number(st.mode);
  let granted: number;
  if (Number(st.uid) === user.uid) granted = (mode >> 6) & 7;
  else if (user.groups.includes(Number(st.gid))) granted = (mode >> 3) & 7;
  else granted = mode & 7;
  return (granted & bits) === bits;
}
