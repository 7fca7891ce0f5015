import { readFileSync, statSync } from "node:fs";

/** A Linux account as envd runs processes and file operations for it. */
export interface UserInfo {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
  /** Supplementary group ids (from /etc/group), primary gid included. */
  readonly groups: readonly number[];
}

/** Thrown when a user name is not in the account database. */
export class UnknownUserError extends Error {
  override name = "UnknownUserError";
  constructor(readonly username: string) {
    super(`unknown user '${truncate(username)}'`);
  }
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

interface Snapshot {
  readonly passwdMtime: number;
  readonly groupMtime: number;
  readonly users: ReadonlyMap<string, UserInfo>;
  readonly groupNames: ReadonlyMap<number, string>;
}

/**
 * Reads /etc/passwd and /etc/group (Node has no getpwnam). The parsed files
 * are cached and re-read only when their mtime changes, so a `useradd` inside
 * the capsule is seen at once while lookups stay cheap on the hot path.
 */
export class UserDatabase {
  readonly #passwdPath: string;
  readonly #groupPath: string;
  #snapshot: Snapshot | undefined;

  constructor(etcDir = "/etc") {
    this.#passwdPath = `${etcDir}/passwd`;
    this.#groupPath = `${etcDir}/group`;
  }

  /** Returns the user, or throws UnknownUserError. */
  lookup(name: string): UserInfo {
    const user = this.#load().users.get(name);
    if (!user) throw new UnknownUserError(name);
    return user;
  }

  /** Returns the user whose uid is `uid`, if any. */
  byUid(uid: number): UserInfo | undefined {
    for (const u of this.#load().users.values()) if (u.uid === uid) return u;
    return undefined;
  }

  /** Name of a group id, or the id as a string when it has no name. */
  groupName(gid: number): string {
    return this.#load().groupNames.get(gid) ?? String(gid);
  }

  /** Name of a user id, or the id as a string when it has no name. */
  userName(uid: number): string {
    return this.byUid(uid)?.name ?? String(uid);
  }

  #load(): Snapshot {
    const passwdMtime = mtime(this.#passwdPath);
    const groupMtime = mtime(this.#groupPath);
    const cached = this.#snapshot;
    if (cached && cached.passwdMtime === passwdMtime && cached.groupMtime === groupMtime) return cached;
    this.#snapshot = parse(readText(this.#passwdPath), readText(this.#groupPath), passwdMtime, groupMtime);
    return this.#snapshot;
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function parse(passwd: string, group: string, passwdMtime: number, groupMtime: number): Snapshot {
  const groupNames = new Map<number, string>();
  const memberOf = new Map<string, number[]>();
  for (const line of group.split("\n")) {
    const [name, , gidText, members] = line.split(":");
    const gid = Number(gidText);
    if (!name || !Number.isInteger(gid)) continue;
    if (!groupNames.has(gid)) groupNames.set(gid, name);
    for (const member of (members ?? "").split(",")) {
      if (!member) continue;
      const list = memberOf.get(member) ?? [];
      list.push(gid);
      memberOf.set(member, list);
    }
  }
  const users = new Map<string, UserInfo>();
  for (const line of passwd.split("\n")) {
    const [name, , uidText, gidText, , home, shell] = line.split(":");
    const uid = Number(uidText);
    const gid = Number(gidText);
    if (!name || !Number.isInteger(uid) || !Number.isInteger(gid) || users.has(name)) continue;
    const groups = [gid, ...(memberOf.get(name) ?? []).filter((g) => g !== gid)];
    users.set(name, { name, uid, gid, home: home || "/", shell: shell || "/bin/sh", groups });
  }
  return { passwdMtime, groupMtime, users, groupNames };
}
