import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import { type CommandRunner, runChecked } from "../../exec/command-runner.js";
import type { PidFiles } from "../../exec/pid-files.js";
import type { Runtime, RuntimeAvailability, SandboxHandle, SandboxSpec } from "../runtime.js";
import { ensureGuestKernel, type GuestKernel } from "./guest-kernel.js";
import type { QemuSpec } from "./qemu-argv.js";
import { type QemuPhaseListener, timed } from "./qemu-phases.js";
import { QemuSandbox } from "./qemu-sandbox.js";
import { QemuVm } from "./qemu-vmm.js";
import { ensureTemplateSnapshot, type TemplateSnapshotKey } from "./template-snapshot.js";

/** envd's port inside every guest. */
export const ENVD_PORT = 49983;
/** Same MAC in every capsule (each has its own netns), so one memory snapshot restores anywhere. */
const GUEST_MAC = "02:fc:00:00:00:01";

/** Options for the QEMU runtime. */
export interface QemuRuntimeOptions {
  /** Root of the agent's caches (`/var/lib/wrenn`): guest kernels are kept under `kernels/`. */
  readonly wrennDir: string;
  readonly runner: CommandRunner;
  /** @default "qemu-system-x86_64" */
  readonly qemuBinary?: string;
  /** TAP name inside each slot's netns (the network provider's `vmTap`). @default "tap0" */
  readonly tapName?: string;
  /**
   * Create capsules by restoring a pre-booted template snapshot (made once per template and
   * VM shape by a cold boot). Off: every create cold-boots. @default true
   */
  readonly templateSnapshots?: boolean;
  /** Records each QEMU's PID while it runs, so a restarted agent can end what a crash left. */
  readonly pidFiles?: PidFiles;
  /** Receives the duration of each step of create, pause and resume (benchmarks). */
  readonly onPhase?: QemuPhaseListener;
}

/** The parts of a spec that a memory snapshot depends on (paths of per-capsule files do not count). */
function snapshotShape(s: QemuSpec): TemplateSnapshotKey["spec"] {
  return {
    accel: s.accel,
    vcpus: s.vcpus,
    memoryMb: s.memoryMb,
    kernel: s.kernel,
    initrd: s.initrd,
    tap: s.tap,
    mac: s.mac,
  };
}

/** Whether the CPU has hardware virtualisation (not kvm_pvm, which hangs stock kernels: §0). */
export async function hardwareKvm(): Promise<boolean> {
  if (!existsSync("/dev/kvm")) return false;
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo) && !existsSync("/sys/module/kvm_pvm");
}

/** Host TSC frequency in kHz from /proc/cpuinfo (pitfall 6: stops PIT calibration hangs). */
async function hostTscKhz(): Promise<number> {
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] ?? 0);
  return mhz > 0 ? Math.round(mhz * 1000) : 2_000_000;
}

/**
 * Capsules as QEMU microVMs: TCG unless hardware KVM is present, a qcow2 overlay per capsule
 * over the template's ext4, QEMU inside the slot's netns on its TAP, pause/resume by
 * migrating memory + devices to a file. Creation restores the template's pre-booted snapshot
 * (cold-booted once per template and VM shape) into the capsule's netns on a fresh overlay.
 */
export class QemuRuntime implements Runtime {
  readonly kind = "qemu" as const;
  #version: string | undefined;
  #kernel: Promise<GuestKernel> | undefined;
  constructor(readonly options: QemuRuntimeOptions) {}

  /**
   * The cached guest kernel, looked up once per runtime: the look-up asks apt which package
   * the meta-package points at, which took 1–3.7 s on a busy host, on every create. Looked up
   * again when a file went missing (cache pruned) or the last look-up failed.
   */
  async #guestKernel(): Promise<GuestKernel> {
    const known = await this.#kernel?.catch(() => undefined);
    if (known && existsSync(known.kernel) && existsSync(known.initrd)) return known;
    const { wrennDir, runner } = this.options;
    this.#kernel = ensureGuestKernel({ wrennDir, runner });
    return this.#kernel;
  }

  async #qemuVersion(): Promise<string> {
    if (this.#version === undefined) {
      const r = await runChecked(this.options.runner, [this.options.qemuBinary ?? "qemu-system-x86_64", "--version"]);
      this.#version = r.stdout.split("\n")[0]?.trim() ?? "";
    }
    return this.#version;
  }

  async availability(): Promise<RuntimeAvailability> {
    const bin = this.options.qemuBinary ?? "qemu-system-x86_64";
    for (const argv of [
      [bin, "--version"],
      ["qemu-img", "--version"],
    ] as const) {
      const ok = await this.options.runner.run(argv).then(
        (r) => r.exitCode === 0,
        () => false,
      );
      if (!ok)
        return { available: false, reason: `${argv[0]} is missing (apt-get install qemu-system-x86 qemu-utils)` };
    }
    const kvm = await hardwareKvm();
    return {
      available: true,
      reason: kvm ? "QEMU with hardware KVM" : "QEMU with TCG (no hardware KVM here: guests run ~20–30× slower)",
    };
  }

  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    const ext4 = spec.image.ext4Path ?? "";
    if (!ext4 && !spec.image.vmSnapshot) {
      throw new PlatformError("invalid_argument", "NO_EXT4_IMAGE", "the qemu runtime needs image.ext4Path");
    }
    const { runner, onPhase } = this.options;
    const kernel = await timed(onPhase, "kernel", () => this.#guestKernel());
    await mkdir(spec.stateDir, { recursive: true });
    const overlay = join(spec.stateDir, "root.qcow2");
    const qemuSpec: QemuSpec = {
      binary: this.options.qemuBinary,
      accel: (await hardwareKvm()) ? "kvm" : "tcg",
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      kernel: spec.image.kernelPath ?? kernel.kernel,
      initrd: kernel.initrd,
      tscKhz: await hostTscKhz(),
      disk: overlay,
      tap: this.options.tapName ?? "tap0",
      mac: GUEST_MAC,
      qmpSocket: join(spec.stateDir, "qmp.sock"),
      serialLog: join(spec.stateDir, "serial.log"),
      netnsPath: spec.network.netnsPath,
      ...(this.options.pidFiles ? { pidFiles: this.options.pidFiles } : {}),
    };
    const snapshot = spec.image.vmSnapshot;
    if (snapshot && (snapshot.vcpus !== spec.vcpus || snapshot.memoryMb !== spec.memoryMb)) {
      throw new PlatformError(
        "invalid_argument",
        "SNAPSHOT_SHAPE_MISMATCH",
        `this snapshot template restores only with ${snapshot.vcpus} vCPU(s) and ${snapshot.memoryMb} MiB`,
      );
    }
    const vmSpec: QemuSpec = snapshot ? { ...qemuSpec, kernel: snapshot.kernel, initrd: snapshot.initrd } : qemuSpec;
    const sandbox = new QemuSandbox(`http://${spec.network.guestIp}:${ENVD_PORT}`, vmSpec, {
      overlay,
      stateFile: join(spec.stateDir, "vm.state"),
      runner,
      ...(onPhase ? { onPhase } : {}),
    });
    const envdUrl = sandbox.envdUrl;
    // Absolute backing paths + explicit formats (pitfall 10); the backing layers are never written.
    const makeOverlay = (backing: string, format: "qcow2" | "raw") =>
      timed(onPhase, "overlay", () =>
        runChecked(runner, ["qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", format, overlay], {
          signal,
        }),
      );
    try {
      if (snapshot) {
        // A snapshot template (CreateSnapshot): its own flattened disk and memory state.
        await makeOverlay(snapshot.disk, "qcow2");
        await sandbox.restoreFrom(snapshot.stateFile, signal);
      } else if (this.options.templateSnapshots ?? true) {
        const qemuVersion = await this.#qemuVersion();
        const snap = await timed(onPhase, "template snapshot", () =>
          ensureTemplateSnapshot({
            wrennDir: this.options.wrennDir,
            // Keyed by the image, not the template id: every template id on the same image
            // (and the zero id of the built-in `minimal`) shares one pre-booted snapshot.
            templateId: `img-${createHash("sha256").update(ext4).digest("hex").slice(0, 12)}`,
            runner,
            key: { ext4, qemuVersion, spec: snapshotShape(qemuSpec) },
            bootSpec: qemuSpec,
            envdUrl,
            signal,
          }),
        );
        await makeOverlay(snap.disk, "qcow2");
        await sandbox.restoreFrom(snap.state, signal, snap.ram);
      } else {
        await makeOverlay(ext4, "raw");
        await sandbox.attach(
          await timed(onPhase, "qemu start", () => QemuVm.start(qemuSpec, undefined, signal)),
          signal,
        );
      }
      return sandbox;
    } catch (err) {
      const serial = await readFile(qemuSpec.serialLog, "utf8").catch(() => "");
      await sandbox[Symbol.asyncDispose]();
      await rm(overlay, { force: true });
      if (err instanceof PlatformError && serial) {
        throw new PlatformError(
          err.code,
          err.reason ?? "QEMU_CREATE_FAILED",
          `${err.message}; guest console: ${serial.slice(-500)}`,
        );
      }
      throw err;
    }
  }
}
