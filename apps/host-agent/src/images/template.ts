/**
 * Guest image templates: what goes into a root filesystem, as data.
 *
 * Bump RECIPE_VERSION whenever the planner changes what it does with the same
 * inputs, so every cached image built by the old recipe is rebuilt.
 */

/** Version of the build recipe (plan.ts); part of every image hash. */
export const RECIPE_VERSION = 1;

/** A guest image template built from Debian packages. */
export interface ImageTemplate {
  /** Template name; also the cache folder name (`images/<name>/`). */
  readonly name: string;
  /** Debian suite for the base system. */
  readonly suite: string;
  /** Debian mirror (the package registry) used by debootstrap and apt inside the image. */
  readonly mirror: string;
  /** Debian security mirror for `<suite>-security`. */
  readonly securityMirror: string;
  /** Extra packages installed on top of the minbase system (sorted, no duplicates). */
  readonly packages: readonly string[];
  /** The unprivileged default user, like E2B's `user`. */
  readonly user: { readonly name: string; readonly uid: number; readonly shell: string };
  /**
   * Rough package counts, only used to turn "files present so far" into a
   * progress percentage (a wrong guess makes the bar jump, never the build fail).
   */
  readonly expectedPackages: { readonly base: number; readonly total: number };
}

/** The `minimal` template: bookworm minbase + envd's runtime needs + a sudo-capable `user`. */
export const MINIMAL_TEMPLATE: ImageTemplate = {
  name: "minimal",
  suite: "bookworm",
  mirror: "http://deb.debian.org/debian",
  securityMirror: "http://deb.debian.org/debian-security",
  packages: ["ca-certificates", "curl", "python3", "socat", "sudo", "tini"],
  user: { name: "user", uid: 1000, shell: "/bin/bash" },
  expectedPackages: { base: 88, total: 126 },
};

/** Templates by name. */
export const TEMPLATES: Readonly<Record<string, ImageTemplate>> = { minimal: MINIMAL_TEMPLATE };

/** Where things live inside every image (absolute guest paths). */
export const GUEST_PATHS = {
  node: "/usr/local/bin/node",
  envdDir: "/usr/local/lib/wrenn/envd",
  envdBundle: "/usr/local/lib/wrenn/envd/envd.mjs",
  /** What wrenn-init starts: envd's CommonJS loader, which skips Node's ES module loader (starts faster). */
  envdLoader: "/usr/local/lib/wrenn/envd/envd.cjs",
  init: "/usr/local/bin/wrenn-init",
} as const;
