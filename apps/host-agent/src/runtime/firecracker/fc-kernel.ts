/**
 * The guest kernel in the form Firecracker boots. Firecracker's x86_64 loader takes an
 * uncompressed ELF `vmlinux` (bzImage support only arrived in releases newer than the API
 * spec this driver is checked against), while Debian ships its cloud kernel as an LZ4
 * compressed bzImage. So the ELF is taken out of the same cached kernel the QEMU runtime
 * boots (guest-kernel.ts), the way the kernel's own `scripts/extract-vmlinux` does: find the
 * LZ4 payload in the bzImage and decompress it. The initramfs is shared with QEMU: the cloud
 * kernel has its virtio drivers as modules, which it loads.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import type { CommandRunner } from "../../exec/command-runner.js";
import { cachedBuild, MANIFEST_FILE } from "../../images/image-cache.js";
import { ensureGuestKernel } from "../qemu/guest-kernel.js";

/** Bump when the extraction changes: the cache key includes it. */
const ELF_RECIPE = 1;
/** LZ4 legacy frame magic (0x184C2102, little-endian), the format of the kernel's LZ4 payload. */
const LZ4_LEGACY_MAGIC = Buffer.from([0x02, 0x21, 0x4c, 0x18]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** A kernel and initramfs for Firecracker's boot source. */
export interface FirecrackerKernel {
  /** Uncompressed ELF vmlinux (`kernel_image_path`). */
  readonly kernelPath: string;
  /** The busybox initramfs that loads the virtio modules (`initrd_path`). */
  readonly initrdPath: string;
  readonly cached: boolean;
}

/** PURE: whether `buf` starts like an ELF file. */
export function isElf(buf: Uint8Array): boolean {
  return Buffer.from(buf.subarray(0, 4)).equals(ELF_MAGIC);
}

/**
 * PURE: offsets of every LZ4 legacy frame magic in a bzImage, first first. The compressed
 * payload starts at one of them; the others are bytes that happen to look the same, which
 * is why each candidate is tried until one decompresses to an ELF.
 */
export function lz4PayloadOffsets(image: Buffer): number[] {
  const out: number[] = [];
  for (let at = image.indexOf(LZ4_LEGACY_MAGIC); at >= 0; at = image.indexOf(LZ4_LEGACY_MAGIC, at + 1)) out.push(at);
  return out;
}

/**
 * Writes the ELF vmlinux inside the bzImage `bzImage` to `out`, with the `lz4` tool. `lz4`
 * stops with an error at the bytes after the payload (the bzImage's trailer), which is
 * expected: the output is judged by its ELF header, as extract-vmlinux does.
 */
export async function extractVmlinux(runner: CommandRunner, bzImage: string, out: string): Promise<void> {
  const image = await readFile(bzImage);
  if (isElf(image)) {
    await writeFile(out, image);
    return;
  }
  const payload = `${out}.lz4`;
  try {
    for (const at of lz4PayloadOffsets(image)) {
      await writeFile(payload, image.subarray(at));
      await rm(out, { force: true });
      await runner.run(["lz4", "-d", "-f", "-q", payload, out], { timeoutMs: 120_000 });
      const head = await readFile(out).catch(() => Buffer.alloc(0));
      if (isElf(head)) return;
    }
  } finally {
    await rm(payload, { force: true });
  }
  await rm(out, { force: true });
  throw new PlatformError(
    "failed_precondition",
    "NO_FIRECRACKER_KERNEL",
    `no LZ4-compressed ELF kernel found in ${basename(bzImage)} (is lz4 installed?)`,
  );
}

/**
 * The Firecracker kernel under `<wrennDir>/kernels/firecracker/<kernel build>-r<recipe>/`:
 * built once from the cached guest kernel (which is fetched first if missing), then reused.
 */
export async function ensureFirecrackerKernel(opts: {
  readonly wrennDir: string;
  readonly runner: CommandRunner;
}): Promise<FirecrackerKernel> {
  const guest = await ensureGuestKernel(opts);
  const result = await cachedBuild(
    {
      imagesRoot: join(opts.wrennDir, "kernels"),
      template: "firecracker",
      hash: `${basename(guest.dir)}-r${ELF_RECIPE}`,
      runner: opts.runner,
    },
    async (tmp) => {
      await extractVmlinux(opts.runner, guest.kernel, join(tmp, "vmlinux"));
      // Written last: its presence marks a complete entry (image-cache.ts).
      await writeFile(
        join(tmp, MANIFEST_FILE),
        JSON.stringify({ from: guest.kernel, packageName: guest.packageName, recipe: ELF_RECIPE }),
      );
    },
  );
  return { kernelPath: join(result.dir, "vmlinux"), initrdPath: guest.initrd, cached: result.cached };
}
