import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { dirname, join, posix, relative, sep } from "node:path";
import { GUEST_PATHS, type ImageTemplate, RECIPE_VERSION } from "./template.js";

/** One host file copied into the image. */
export interface ImageFile {
  /** Absolute host path. */
  readonly source: string;
  /** Absolute path inside the image. */
  readonly dest: string;
  /** File mode in the image (octal permissions). */
  readonly mode: number;
  /** Content hash (hex sha256): the cache key depends on it, not on mtimes. */
  readonly sha256: string;
}

/** Where the host-side inputs come from. */
export interface ImageSources {
  /** The Node runtime copied to /usr/local/bin/node (Debian bookworm's nodejs is too old). */
  readonly nodeBinary: string;
  /** The envd entry file, e.g. apps/envd/dist/envd.mjs (ENVD_BESIDE_ENTRY lie beside it). */
  readonly envdBundle: string;
  /** A node_modules folder holding the native addon packages envd leaves external. */
  readonly nodeModulesDir: string;
}

/**
 * Files envd.mjs needs beside it (apps/envd/build.mjs): the loader wrenn-init
 * starts, the bundle V8 compiles and its V8 code cache, made with the Node
 * binary the image gets.
 */
export const ENVD_BESIDE_ENTRY = ["envd.cjs", "envd.bundle.cjs", "envd.code-cache"] as const;

/** envd's external native addon packages (shipped in node_modules/ beside the bundle). */
export const ENVD_ADDONS = ["fs-xattr", "node-pty"] as const;

/**
 * Which files of an addon package the image needs at run time: its manifest,
 * licence, JavaScript (minus tests and source maps) and the compiled
 * build/Release/*.node, but not sources, prebuilds for other platforms or
 * intermediate object folders. `rel` uses forward slashes.
 */
export function isShippedAddonFile(rel: string): boolean {
  if (rel === "package.json" || /^LICEN[CS]E/i.test(rel)) return true;
  if (/^build\/Release\/[^/]+\.node$/.test(rel)) return true;
  if (!rel.endsWith(".js") || rel.endsWith(".test.js")) return false;
  return !rel.includes("/") || rel.startsWith("lib/");
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

async function describe(source: string, dest: string): Promise<ImageFile> {
  const st = await stat(source);
  // Keep the executable bit, drop everything else: images must not depend on host umask.
  const mode = st.mode & 0o111 ? 0o755 : 0o644;
  return { source, dest, mode, sha256: await sha256File(source) };
}

/** Lists (and hashes) every host file the image gets, sorted by destination. */
export async function collectImageFiles(sources: ImageSources): Promise<ImageFile[]> {
  const pending: Array<Promise<ImageFile>> = [
    describe(sources.nodeBinary, GUEST_PATHS.node),
    describe(sources.envdBundle, GUEST_PATHS.envdBundle),
    ...ENVD_BESIDE_ENTRY.map((name) =>
      describe(join(dirname(sources.envdBundle), name), posix.join(GUEST_PATHS.envdDir, name)),
    ),
  ];
  for (const addon of ENVD_ADDONS) {
    const root = join(sources.nodeModulesDir, addon);
    for (const file of await walk(root)) {
      const rel = relative(root, file).split(sep).join("/");
      if (isShippedAddonFile(rel)) {
        pending.push(describe(file, posix.join(GUEST_PATHS.envdDir, "node_modules", addon, rel)));
      }
    }
  }
  const files = await Promise.all(pending);
  return files.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
}

/**
 * The image's content hash: recipe version, template (suite, mirrors, package
 * list, user) and every copied file's destination, mode and content. Host
 * paths are left out so the same inputs from another checkout hit the cache.
 */
export function imageHash(template: ImageTemplate, files: readonly ImageFile[]): string {
  const canonical = JSON.stringify({
    recipe: RECIPE_VERSION,
    template: {
      name: template.name,
      suite: template.suite,
      mirror: template.mirror,
      securityMirror: template.securityMirror,
      packages: [...template.packages].sort(),
      user: template.user,
    },
    files: files.map((f) => [f.dest, f.mode, f.sha256]),
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 24);
}
