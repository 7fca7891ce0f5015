/**
 * Keeps the image caches (`images/<template>/`, `qemu-templates/<template>/`)
 * from growing without end: every input change (a new envd bundle, a new
 * recipe) adds a sibling directory of a few hundred MiB. Each use of an image
 * touches its manifest; after a new image is built, siblings unused for a day
 * are removed — unless something still uses them: a lock (a build), a mount
 * whose options name the directory (a capsule's overlay lower layer), or an
 * open file inside it (a VM's backing disk). Two checkouts sharing the cache
 * therefore never pull an image from under each other's running capsules.
 */
import { readdir, readFile, readlink, rename, stat, unlink, utimes } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { processAlive } from "@wrenn/kit";
import type { CommandRunner } from "../exec/command-runner.js";
import { MANIFEST_FILE } from "./image-cache.js";
import { removeTreeSafely } from "./safe-remove.js";

/** Images unused for this long may go. @default one day */
export const IMAGE_KEEP_MS = 24 * 60 * 60_000;

/** Marks an image as used now (its manifest's mtime). Best effort. */
export async function touchImage(dir: string): Promise<void> {
  const now = new Date();
  await utimes(join(dir, MANIFEST_FILE), now, now).catch(() => undefined);
}

/** Paths of every file a process on this host holds open (from /proc/<pid>/fd). */
async function openFiles(): Promise<string[]> {
  const paths: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      if (target.startsWith("/")) paths.push(target);
    }
  }
  return paths;
}

/** True when `text` mentions `dir` itself or a path inside it. */
function mentions(text: string, dir: string): boolean {
  return text.includes(`${dir}${sep}`) || text.includes(`${dir},`) || text.includes(`${dir} `) || text.endsWith(dir);
}

/** The builder's pid in a `.tmp-<hash>-<pid>` name or a lock's text, if any. */
function ownerPid(text: string): number | undefined {
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Removes, in a template's image directory, what builds whose process is gone left behind:
 * `.tmp-<hash>-<pid>` trees (unmounting the /proc a build mounts around apt first) and
 * `<hash>.lock` files. A build of the same hash cleans its own; these are the ones of hashes
 * nobody will build again. Trees or locks of live processes are left alone; failures are
 * skipped (the next call retries).
 */
export async function removeCrashedBuilds(parent: string, runner: CommandRunner): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(parent, name);
    if (name.startsWith(".tmp-")) {
      const pid = ownerPid(name.slice(name.lastIndexOf("-") + 1));
      if (pid !== undefined && !processAlive(pid)) await removeTreeSafely(path, runner).catch(() => undefined);
    } else if (name.endsWith(".lock")) {
      const pid = ownerPid(await readFile(path, "utf8").catch(() => ""));
      // An empty lock is being written right now: only a dead owner makes it stale.
      if (pid !== undefined && !processAlive(pid)) await unlink(path).catch(() => undefined);
    }
  }
}

/**
 * Removes the siblings of `keep` (same template directory) whose manifest was
 * not touched for `keepMs` and that nothing uses. Resolves with the removed
 * directories. Failures to remove one are skipped (the next build retries).
 */
export async function pruneStaleImages(
  keep: string,
  runner: CommandRunner,
  opts: { keepMs?: number; now?: number } = {},
): Promise<string[]> {
  const kept = resolve(keep);
  const parent = resolve(kept, "..");
  const cutoff = (opts.now ?? Date.now()) - (opts.keepMs ?? IMAGE_KEEP_MS);
  const names = await readdir(parent).catch(() => [] as string[]);
  const candidates: string[] = [];
  for (const name of names) {
    const dir = join(parent, name);
    if (name.startsWith(".del-")) {
      await removeTreeSafely(dir, runner).catch(() => undefined); // a prune that crashed half-way
      continue;
    }
    if (dir === kept || name.startsWith(".") || name.endsWith(".lock")) continue;
    if (names.includes(`${name}.lock`)) continue;
    const used = await stat(join(dir, MANIFEST_FILE)).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    if (used !== undefined && used < cutoff) candidates.push(dir);
  }
  if (candidates.length === 0) return [];
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  const open = await openFiles();
  const removed: string[] = [];
  for (const dir of candidates) {
    if (mentions(mountinfo, dir) || open.some((p) => p.startsWith(`${dir}${sep}`))) continue;
    try {
      // Renamed first: from here no cache lookup finds it, so nobody starts using it mid-delete.
      const doomed = join(parent, `.del-${dir.slice(parent.length + 1)}-${process.pid}`);
      await rename(dir, doomed);
      await removeTreeSafely(doomed, runner);
      removed.push(dir);
    } catch {
      // Refused (a mount appeared) or racing another pruner: left for the next build.
    }
  }
  return removed;
}
