import { copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import { type CommandRunner, runChecked } from "../../exec/command-runner.js";
import { cachedBuild } from "../../images/image-cache.js";
import { initramfsInitScript, parseShowDepends } from "./guest-init.js";

/** Bump when the initramfs recipe changes: the cache key includes it. */
const KERNEL_RECIPE = 1;
/** Debian's cloud kernel: ext4 built in, LZ4 bzImage, virtio as modules (vm-on-this-machine.md §2). */
const META_PACKAGE = "linux-image-cloud-amd64";
/** Drivers the microvm machine needs; modprobe adds their dependencies in load order. */
const MODULES = ["virtio_mmio", "virtio_blk", "virtio_net", "virtio_rng", "virtio_console"];
const BUSYBOX = "/bin/busybox";

/** A cached guest kernel and its initramfs. */
export interface GuestKernel {
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  /** e.g. linux-image-6.1.0-50-cloud-amd64 */
  readonly packageName: string;
  readonly cached: boolean;
}

/** Resolves the versioned package behind the cloud meta-package (local apt metadata, no network). */
async function resolvePackage(runner: CommandRunner): Promise<string> {
  const r = await runChecked(runner, ["apt-cache", "depends", META_PACKAGE]);
  const m = /Depends: (linux-image-[0-9][\w.+-]*)/.exec(r.stdout);
  if (!m?.[1]) {
    throw new PlatformError("failed_precondition", "NO_GUEST_KERNEL", `apt knows no package behind ${META_PACKAGE}`);
  }
  return m[1];
}

async function listTree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(p);
    if (e.isDirectory()) out.push(...(await listTree(root, p)));
  }
  return out;
}

/**
 * Returns the guest kernel (bzImage) and a busybox initramfs under
 * `<wrennDir>/kernels/cloud/<package>-r<recipe>/`, building them once: `apt-get download` and
 * `dpkg-deb -x` (never installed on the host), `depmod` + `modprobe --show-depends` for the
 * load order, `cpio -H newc`. Same atomic rename + lock as the image cache.
 */
export async function ensureGuestKernel(opts: {
  readonly wrennDir: string;
  readonly runner: CommandRunner;
}): Promise<GuestKernel> {
  const { runner } = opts;
  const packageName = await resolvePackage(runner);
  const kver = packageName.replace(/^linux-image-/, "");
  const result = await cachedBuild(
    { imagesRoot: join(opts.wrennDir, "kernels"), template: "cloud", hash: `${kver}-r${KERNEL_RECIPE}`, runner },
    async (tmp) => {
      const dl = join(tmp, "dl");
      const tree = join(tmp, "tree");
      const initrd = join(tmp, "initrd");
      await mkdir(dl);
      await runChecked(runner, ["apt-get", "download", packageName], { cwd: dl, timeoutMs: 300_000 });
      const [deb] = (await readdir(dl)).filter((n) => n.endsWith(".deb"));
      if (!deb) throw new PlatformError("internal", "NO_GUEST_KERNEL", `apt-get download ${packageName} saved no .deb`);
      await runChecked(runner, ["dpkg-deb", "-x", join(dl, deb), tree], { timeoutMs: 300_000 });
      await copyFile(join(tree, "boot", `vmlinuz-${kver}`), join(tmp, "vmlinuz"));
      await runChecked(runner, ["depmod", "-b", tree, kver]);
      const deps = await runChecked(runner, ["modprobe", "-d", tree, "-S", kver, "-a", "--show-depends", ...MODULES]);
      const modules = parseShowDepends(deps.stdout, tree);
      for (const d of ["bin", "proc", "sys", "dev", "newroot"]) await mkdir(join(initrd, d), { recursive: true });
      await copyFile(BUSYBOX, join(initrd, "bin", "busybox"));
      for (const m of modules) {
        await mkdir(dirname(join(initrd, m)), { recursive: true });
        await copyFile(join(tree, m), join(initrd, m));
      }
      await writeFile(join(initrd, "init"), initramfsInitScript(modules), { mode: 0o755 });
      await runner.run(["chmod", "0755", join(initrd, "bin", "busybox")]);
      const files = await listTree(initrd);
      await runChecked(runner, ["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet", "-F", join(tmp, "initrd.cpio")], {
        cwd: initrd,
        stdin: `${files.join("\n")}\n`,
      });
      // Plain directories of our own making (no mounts inside): a recursive rm is safe here.
      for (const d of [dl, tree, initrd]) await rm(d, { recursive: true, force: true });
      await writeFile(
        join(tmp, "manifest.json"),
        JSON.stringify({ packageName, kver, modules, recipe: KERNEL_RECIPE }),
      );
    },
  );
  return {
    dir: result.dir,
    kernel: join(result.dir, "vmlinuz"),
    initrd: join(result.dir, "initrd.cpio"),
    packageName,
    cached: result.cached,
  };
}
