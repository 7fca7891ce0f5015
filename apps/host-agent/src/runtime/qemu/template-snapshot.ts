import { createHash, randomBytes } from "node:crypto";
import { rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import { type CommandRunner, runChecked } from "../../exec/command-runner.js";
import { cachedBuild } from "../../images/image-cache.js";
import { warmEnvd, zeroFreeGuestMemory } from "./envd-warmup.js";
import { notifyResumed, waitForHealth } from "./guest-http.js";
import type { QemuSpec } from "./qemu-argv.js";
import { QemuVm } from "./qemu-vmm.js";

/** Bump when the boot or snapshot recipe changes: old snapshots stop matching. */
const SNAPSHOT_RECIPE = 5;
const BOOT_TIMEOUT_MS = 120_000;

/** A pre-booted template: a read-only qcow2 layer and the memory + device state of its VM. */
export interface TemplateSnapshot {
  readonly dir: string;
  /** qcow2 over the template ext4; capsules layer their own overlay on it. Never written again. */
  readonly disk: string;
  /**
   * Device state to restore with `-incoming`; RAM is not in it (x-ignore-shared) but in `ram`,
   * which capsules map copy-on-write (`QemuSpec.ramFile`, not shared).
   */
  readonly state: string;
  /** The template VM's guest RAM image (`-m` bytes, sparse). Never written again. */
  readonly ram: string;
  readonly cached: boolean;
}

/** What a snapshot depends on: anything that changes the VM's shape or contents. */
export interface TemplateSnapshotKey {
  readonly ext4: string;
  /** `qemu-system-x86_64 --version` first line: snapshots are tied to the QEMU build (pitfall 13). */
  readonly qemuVersion: string;
  readonly spec: Pick<QemuSpec, "accel" | "vcpus" | "memoryMb" | "kernel" | "initrd" | "tap" | "mac">;
}

/** PURE: the cache key of a template snapshot. */
export async function templateSnapshotHash(key: TemplateSnapshotKey): Promise<string> {
  const ext4 = await stat(key.ext4);
  const material = JSON.stringify({
    recipe: SNAPSHOT_RECIPE,
    ext4: key.ext4,
    ext4Size: ext4.size,
    ext4Mtime: ext4.mtimeMs,
    qemu: key.qemuVersion,
    spec: key.spec,
  });
  return createHash("sha256").update(material).digest("hex").slice(0, 24);
}

/**
 * Returns the template's pre-booted snapshot, making it once (cold boot until envd is healthy,
 * one command and one file call through envd so its service code is loaded, then migrate
 * the device state to a file; the guest RAM already lives in the snapshot's `ram` file) under `<wrennDir>/qemu-templates/<template>/<hash>/` with the image
 * cache's lock + atomic rename. The boot runs in `bootSpec.netnsPath` (the first capsule's
 * netns: the guest IP and MAC are the same in every slot, so the state restores anywhere).
 */
export async function ensureTemplateSnapshot(opts: {
  readonly wrennDir: string;
  readonly templateId: string;
  readonly runner: CommandRunner;
  readonly key: TemplateSnapshotKey;
  /** Spec of the capsule being created; disk, QMP socket and console are replaced for the boot. */
  readonly bootSpec: QemuSpec;
  /** envd as the host reaches it in bootSpec's netns. */
  readonly envdUrl: string;
  readonly signal?: AbortSignal;
}): Promise<TemplateSnapshot> {
  const hash = await templateSnapshotHash(opts.key);
  const result = await cachedBuild(
    { imagesRoot: join(opts.wrennDir, "qemu-templates"), template: opts.templateId, hash, runner: opts.runner },
    async (tmp) => {
      const disk = join(tmp, "template.qcow2");
      await runChecked(opts.runner, [
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        opts.key.ext4,
        "-F",
        "raw",
        disk,
      ]);
      const ram = join(tmp, "ram");
      const spec: QemuSpec = {
        ...opts.bootSpec,
        disk,
        // Not in `tmp`: a long cache path would exceed the 108-byte unix socket limit.
        qmpSocket: join(tmpdir(), `wrenn-qmp-${randomBytes(6).toString("hex")}.sock`),
        serialLog: join(tmp, "serial.log"),
        // RAM in a file of the snapshot: saving writes device state only, restoring maps it.
        ramFile: { path: ram, shared: true },
      };
      const t0 = performance.now();
      const vm = await QemuVm.start(spec, undefined, opts.signal);
      let died: Error | undefined;
      void vm.process.exited.then((e) => {
        died = new PlatformError("internal", "QEMU_EXITED", `template VM exited (code ${e.code})`, {
          details: { stderr: vm.process.stderrTail() },
        });
      });
      try {
        await waitForHealth(opts.envdUrl, BOOT_TIMEOUT_MS, () => died, opts.signal);
        await notifyResumed(opts.envdUrl);
        const bootMs = performance.now() - t0;
        // Capsules restore with envd's service code already loaded (their first command is fast).
        await warmEnvd(opts.envdUrl, opts.signal);
        await zeroFreeGuestMemory(opts.envdUrl, opts.signal);
        await vm.saveAndQuit(join(tmp, "vm.state"), opts.signal);
        // Zeroed pages become holes: less disk and page cache, read back as zeros.
        await runChecked(opts.runner, ["fallocate", "--dig-holes", ram]);
        await writeFile(join(tmp, "manifest.json"), JSON.stringify({ hash, bootMs, key: opts.key }, null, 2));
      } finally {
        await vm.quit();
        await rm(spec.qmpSocket, { force: true });
      }
    },
  );
  return {
    dir: result.dir,
    disk: join(result.dir, "template.qcow2"),
    state: join(result.dir, "vm.state"),
    ram: join(result.dir, "ram"),
    cached: result.cached,
  };
}
