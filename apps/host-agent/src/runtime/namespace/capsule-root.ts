/**
 * A namespace capsule's root on the host: the overlay over the template (writes land in the
 * capsule's upper dir), the identity files written through it, and the launcher script beside
 * it. The independent parts run at once: they are a handful of file-system round trips and one
 * `mount`, and on a loaded host each round trip waits for the libuv thread pool.
 */
import { lstat, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type AsyncDisposableStore, PlatformError } from "@wrenn/kit";
import { type CommandRunner, runChecked } from "../../exec/command-runner.js";
import { removeTreeSafely } from "../../images/safe-remove.js";
import { CAPSULE_INIT_SCRIPT } from "./capsule-init.js";

/** What {@link prepareCapsuleRoot} needs. */
export interface CapsuleRootInput {
  readonly sandboxId: string;
  /** The template's root directory (the overlay's lower dir). */
  readonly lowerDir: string;
  /** The capsule's state directory; `upper`, `work`, `root` and the launcher script go there. */
  readonly stateDir: string;
  readonly hostname: string;
  /** resolv.conf text; undefined: the host's /etc/resolv.conf, read now. */
  readonly resolvConf: string | undefined;
  readonly runner: CommandRunner;
  /** Receives the undo steps (unmount, remove) as soon as each change is made. */
  readonly store: AsyncDisposableStore;
  /** Called with the duration (ms) of the mount and of the identity files. */
  readonly onStep?: (step: "overlay" | "identity", ms: number) => void;
}

/** Paths of a prepared capsule root. */
export interface CapsuleRoot {
  /** The merged root (overlay mount point). */
  readonly root: string;
  /** The capsule's writable layer. */
  readonly upper: string;
  /** The launcher script (see capsule-init.ts). */
  readonly scriptPath: string;
}

/**
 * Mounts the overlay, writes the identity files through it and the launcher script beside it.
 * On failure everything made so far is in `store` (the caller disposes it).
 */
export async function prepareCapsuleRoot(input: CapsuleRootInput): Promise<CapsuleRoot> {
  const { stateDir, store, runner } = input;
  const upper = join(stateDir, "upper");
  const work = join(stateDir, "work");
  const root = join(stateDir, "root");
  const scriptPath = join(stateDir, "capsule-init.sh");
  await mkdir(stateDir, { recursive: true });
  store.defer(async () => {
    await removeTreeSafely(root, runner);
    await rm(upper, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
    await rm(scriptPath, { force: true });
  });
  const resolv =
    input.resolvConf !== undefined
      ? Promise.resolve(input.resolvConf)
      : readFile("/etc/resolv.conf", "utf8").catch(() => "");
  const mounted = (async () => {
    const t0 = performance.now();
    await Promise.all([upper, work, root].map((d) => mkdir(d, { recursive: true })));
    await runChecked(runner, [
      "mount",
      "-t",
      "overlay",
      // One source name for every capsule: it shows in the capsule's own /proc/mounts, and a
      // capsule from the warm pool (launched before its id was known) must look the same.
      "wrenn-capsule",
      "-o",
      `lowerdir=${input.lowerDir},upperdir=${upper},workdir=${work}`,
      root,
    ]);
    input.onStep?.("overlay", performance.now() - t0);
  })();
  // The script is fixed text; mode 0700 on a new file (the state dir is fresh per capsule).
  const script = writeFile(scriptPath, CAPSULE_INIT_SCRIPT, { mode: 0o700 });
  const [m, s, r] = await Promise.allSettled([mounted, script, resolv]);
  for (const x of [m, s, r]) if (x.status === "rejected") throw x.reason;
  const t1 = performance.now();
  await writeIdentity(root, input.hostname, r.status === "fulfilled" ? r.value : undefined);
  input.onStep?.("identity", performance.now() - t1);
  return { root, upper, scriptPath };
}

/**
 * /etc/hostname, /etc/hosts and (unless `resolv` is undefined) /etc/resolv.conf, written
 * through the overlay mounted at `root` so they land in the capsule's upper layer only: at
 * launch, and again with the new name when a pooled capsule is claimed. A template is
 * untrusted: /etc or these files may be symlinks pointing at host paths, so /etc must be a
 * real directory and each file is replaced, never written through (O_EXCL after the unlink).
 */
export async function writeIdentity(root: string, hostname: string, resolv: string | undefined): Promise<void> {
  if (!(await lstat(join(root, "etc"))).isDirectory()) {
    throw new PlatformError("failed_precondition", "BAD_TEMPLATE", "the template's /etc is not a directory");
  }
  const files: [string, string][] = [
    ["etc/hostname", `${hostname}\n`],
    ["etc/hosts", `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`],
  ];
  if (resolv !== undefined) files.push(["etc/resolv.conf", resolv]);
  const written = await Promise.allSettled(
    files.map(async ([file, text]) => {
      await rm(join(root, file), { force: true });
      await writeFile(join(root, file), text, { flag: "wx", mode: 0o644 });
    }),
  );
  for (const w of written) if (w.status === "rejected") throw w.reason;
}

/** A hostname from a sandbox id: at most 63 characters of [a-z0-9-]. */
export function capsuleHostname(sandboxId: string): string {
  const h = sandboxId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  return h === "" ? "capsule" : h;
}
