import { existsSync } from "node:fs";
import { lstat, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PlatformError } from "@wrenn/kit";
import type { CommandRunner } from "../exec/command-runner.js";
import { applyPlan } from "./apply-plan.js";
import { cachedBuild, MANIFEST_FILE } from "./image-cache.js";
import { collectImageFiles, type ImageSources, imageHash } from "./inputs.js";
import { planExt4, planRootfs } from "./plan.js";
import type { ProgressListener } from "./progress.js";
import { type ImageTemplate, RECIPE_VERSION } from "./template.js";

/** Options for buildImage. */
export interface BuildImageOptions {
  /** `$WRENN_DIR`; images go to `<wrennDir>/images/<template>/<hash>/`. */
  readonly wrennDir: string;
  readonly template: ImageTemplate;
  readonly sources: ImageSources;
  readonly runner: CommandRunner;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** Also produce `rootfs.ext4` beside the rootfs directory (for the VM runtimes). */
  readonly ext4?: boolean;
}

/** A built (or cached) image. */
export interface BuiltImage {
  readonly template: string;
  readonly hash: string;
  /** `<wrennDir>/images/<template>/<hash>`. */
  readonly dir: string;
  /** The root filesystem directory (namespace runtime lowerdir). */
  readonly rootfs: string;
  /** The ext4 image, when requested. */
  readonly ext4: string | undefined;
  /** True when nothing was built. */
  readonly cached: boolean;
  readonly durationMs: number;
}

/** The inputs of this checkout: the host's Node 20, the envd bundle and the repo's node_modules. */
export function defaultImageSources(): ImageSources {
  return {
    nodeBinary: "/usr/bin/node",
    envdBundle: fileURLToPath(new URL("../../../envd/dist/envd.mjs", import.meta.url)),
    nodeModulesDir: fileURLToPath(new URL("../../../../node_modules", import.meta.url)),
  };
}

/** Disk usage of a tree (allocated blocks) and its inode count, without following symlinks. */
export async function treeUsage(dir: string): Promise<{ bytes: number; inodes: number }> {
  let bytes = 0;
  let inodes = 0;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    bytes += st.blocks * 512;
    inodes += 1;
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(dir);
  return { bytes, inodes };
}

/**
 * The root disk a VM capsule gets (the reference's default `disk_size_mb`).
 * The ext4 image is sparse, so the free space costs no host disk until the
 * capsule writes to it.
 */
export const VM_ROOT_DISK_MIB = 5120;

/**
 * ext4 size for a tree: at least {@link VM_ROOT_DISK_MIB}, more when the tree
 * (plus room for metadata, inode tables and a little free space) needs it.
 */
export function ext4SizeMiB(usage: { bytes: number; inodes: number }): number {
  const fit = Math.ceil((usage.bytes * 1.25 + usage.inodes * 512) / 2 ** 20) + 64;
  return Math.max(fit, VM_ROOT_DISK_MIB);
}

/** The rootfs usage recorded in an image's manifest at build time; measured when the manifest lacks it. */
async function rootfsUsage(dir: string): Promise<{ bytes: number; inodes: number }> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), "utf8").catch(() => "{}")) as {
    rootfsBytes?: unknown;
    inodes?: unknown;
  };
  const { rootfsBytes, inodes } = manifest;
  if (typeof rootfsBytes === "number" && typeof inodes === "number") return { bytes: rootfsBytes, inodes };
  return treeUsage(join(dir, "rootfs"));
}

/**
 * Builds `rootfs.ext4` from a finished image's rootfs unless present. Written
 * to a temp file and renamed, so two callers racing both end with a valid file.
 */
export async function ensureExt4Image(
  dir: string,
  opts: Omit<BuildImageOptions, "template" | "sources" | "wrennDir">,
): Promise<string> {
  const target = join(dir, "rootfs.ext4");
  const size = ext4SizeMiB(await rootfsUsage(dir));
  // An image cached by an older build may be smaller (no free space for the capsule): rebuild it.
  if (existsSync(target) && (await stat(target)).size >= size * 2 ** 20) return target;
  const tmp = join(dir, `.rootfs.ext4.tmp-${process.pid}`);
  try {
    await applyPlan(planExt4(join(dir, "rootfs"), tmp, size), opts);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new PlatformError("internal", "IMAGE_EXT4_FAILED", `building ${target} failed`, { cause: err });
  }
  return target;
}

/**
 * Builds a template's image, or returns the cached one when no input changed
 * (the hash of recipe, package list and every copied file).
 */
export async function buildImage(opts: BuildImageOptions): Promise<BuiltImage> {
  const started = performance.now();
  const t = opts.template;
  opts.onProgress?.({ phase: "hash", done: 0, total: 0, percent: 0, message: "hashing inputs" });
  const files = await collectImageFiles(opts.sources);
  const hash = imageHash(t, files);
  const key = { imagesRoot: join(opts.wrennDir, "images"), template: t.name, hash };
  const result = await cachedBuild(
    {
      ...key,
      runner: opts.runner,
      onWaiting: (holder) =>
        opts.onProgress?.({ phase: "hash", done: 0, total: 0, percent: 0, message: `waiting for build ${holder}` }),
    },
    async (tmp) => {
      const rootfs = join(tmp, "rootfs");
      try {
        await applyPlan(planRootfs({ rootfs, template: t, files }), opts);
      } catch (err) {
        throw new PlatformError("internal", "IMAGE_BUILD_FAILED", `building image ${t.name} failed`, { cause: err });
      }
      const usage = await treeUsage(rootfs);
      const manifest = {
        template: t.name,
        hash,
        recipe: RECIPE_VERSION,
        suite: t.suite,
        packages: t.packages,
        files: files.map((f) => ({ dest: f.dest, sha256: f.sha256 })),
        rootfsBytes: usage.bytes,
        inodes: usage.inodes,
        buildMs: Math.round(performance.now() - started),
        builtAt: new Date().toISOString(),
      };
      await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    },
  );
  const ext4 = opts.ext4 ? await ensureExt4Image(result.dir, opts) : undefined;
  const durationMs = performance.now() - started;
  opts.onProgress?.({
    phase: result.cached ? "cached" : "done",
    done: 1,
    total: 1,
    percent: 100,
    message: result.dir,
  });
  return {
    template: t.name,
    hash,
    dir: result.dir,
    rootfs: join(result.dir, "rootfs"),
    ext4,
    cached: result.cached,
    durationMs,
  };
}
