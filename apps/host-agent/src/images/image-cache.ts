import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError, processAlive, sleep } from "@wrenn/kit";
import type { CommandRunner } from "../exec/command-runner.js";
import { pruneStaleImages, removeCrashedBuilds, touchImage } from "./image-prune.js";
import { removeTreeSafely } from "./safe-remove.js";

/** The file whose presence marks a complete image; written last, inside the temp dir, before the rename. */
export const MANIFEST_FILE = "manifest.json";

/** Where one image lives: `<imagesRoot>/<template>/<hash>/`. */
export interface ImageKey {
  /** `$WRENN_DIR/images`. */
  readonly imagesRoot: string;
  readonly template: string;
  readonly hash: string;
}

/** Options for a cached build. */
export interface CachedBuildOptions extends ImageKey {
  readonly runner: CommandRunner;
  /** Give up waiting for another build of the same hash after this long. @default 30 min */
  readonly lockTimeoutMs?: number;
  /** Called once if another build holds the lock. */
  readonly onWaiting?: (holder: string) => void;
}

/** The final directory of an image. */
export function imageDir(key: ImageKey): string {
  return join(key.imagesRoot, key.template, key.hash);
}

/** The image directory if a complete image is cached, else undefined. */
export function findCachedImage(key: ImageKey): string | undefined {
  const dir = imageDir(key);
  return existsSync(join(dir, MANIFEST_FILE)) ? dir : undefined;
}

/** Takes `<hash>.lock` with O_EXCL; a lock whose owner process is gone is stale and broken. */
async function acquireLock(path: string, opts: CachedBuildOptions): Promise<() => Promise<void>> {
  const token = `${process.pid} ${randomUUID()}`;
  const deadline = Date.now() + (opts.lockTimeoutMs ?? 30 * 60_000);
  let told = false;
  for (;;) {
    try {
      const fh = await open(path, "wx");
      await fh.writeFile(token);
      await fh.close();
      return async () => {
        // Only remove our own lock (a stale-lock breaker may have replaced it).
        if ((await readFile(path, "utf8").catch(() => "")) === token) await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = await readFile(path, "utf8").catch(() => "");
    const pid = Number.parseInt(holder, 10);
    // An empty file is a lock being written right now; only a dead pid means stale.
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
      await unlink(path).catch(() => {});
      continue;
    }
    if (!told) {
      told = true;
      opts.onWaiting?.(holder);
    }
    if (Date.now() > deadline) {
      throw new PlatformError("unavailable", "IMAGE_BUILD_LOCKED", `another build holds ${path}`, {
        details: { holder },
      });
    }
    await sleep(200);
  }
}

/**
 * Returns the cached image for `key`, or builds it: `build` fills a temp
 * directory, which is renamed into place atomically, so a crashed build never
 * leaves something that looks like a valid image. A lock file serialises
 * builds of the same hash (across processes too); leftovers of crashed builds
 * are deleted under that lock.
 */
export async function cachedBuild(
  opts: CachedBuildOptions,
  build: (tmpDir: string) => Promise<void>,
): Promise<{ readonly dir: string; readonly cached: boolean }> {
  const parent = join(opts.imagesRoot, opts.template);
  // Builds of other hashes that died half-way (their /proc mount included) go on every call:
  // nothing else would ever remove them once the inputs have moved on.
  await removeCrashedBuilds(parent, opts.runner);
  const hit = findCachedImage(opts);
  if (hit) {
    await touchImage(hit);
    return { dir: hit, cached: true };
  }
  await mkdir(parent, { recursive: true });
  const release = await acquireLock(join(parent, `${opts.hash}.lock`), opts);
  try {
    const again = findCachedImage(opts);
    if (again) return { dir: again, cached: true };
    const prefix = `.tmp-${opts.hash}-`;
    for (const name of await readdir(parent)) {
      if (name.startsWith(prefix)) await removeTreeSafely(join(parent, name), opts.runner);
    }
    const final = imageDir(opts);
    if (existsSync(final)) await removeTreeSafely(final, opts.runner); // no manifest: not a complete image
    const tmp = join(parent, `${prefix}${process.pid}`);
    await mkdir(tmp);
    try {
      await build(tmp);
      if (!existsSync(join(tmp, MANIFEST_FILE))) {
        throw new PlatformError("internal", "IMAGE_NO_MANIFEST", `build of ${opts.template} wrote no ${MANIFEST_FILE}`);
      }
    } catch (err) {
      await removeTreeSafely(tmp, opts.runner).catch(() => {}); // refuses if mounted; the next build retries
      throw err;
    }
    await rename(tmp, final);
    // A new image usually replaces an older one of the same template: clear out the unused.
    await pruneStaleImages(final, opts.runner).catch(() => []);
    return { dir: final, cached: false };
  } finally {
    await release();
  }
}
