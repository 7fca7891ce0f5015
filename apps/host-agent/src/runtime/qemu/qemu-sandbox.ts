import { copyFile, link, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import { type CommandRunner, ExecFileRunner, runChecked } from "../../exec/command-runner.js";
import type {
  MaterializedTemplate,
  PauseMode,
  SandboxExit,
  SandboxHandle,
  SandboxUsage,
  TemplateKind,
} from "../runtime.js";
import { notifyResumed, waitForHealth } from "./guest-http.js";
import type { QemuSpec } from "./qemu-argv.js";
import { type QemuPhaseListener, timed } from "./qemu-phases.js";
import { QemuVm } from "./qemu-vmm.js";

/** Files a capsule owns, all removed on dispose. */
export interface QemuSandboxFiles {
  readonly overlay: string;
  readonly stateFile: string;
  /** Runs qemu-img and e2fsck for materialize(). @default ExecFileRunner */
  readonly runner?: CommandRunner;
  /** Timings of start, restore and pause steps (benchmarks). */
  readonly onPhase?: QemuPhaseListener;
}

const HEALTH_TIMEOUT_MS = 60_000;
/** The first `/init` of a restored guest: its answer is the readiness signal, so be patient. */
const RESTORED_INIT_TIMEOUT_MS = 15_000;
/** USER_HZ on Linux x86-64: /proc/<pid>/stat times are in 1/100 s. */
const TICK_MICROS = 10_000;

/**
 * A QEMU capsule. Pause saves memory + devices to `stateFile` and ends QEMU (frees its RAM);
 * resume starts an identical QEMU restoring from that file. The handle's `exited` only
 * settles for an end the agent did not ask for (crash) or on dispose.
 */
export class QemuSandbox implements SandboxHandle {
  readonly exited: Promise<SandboxExit>;
  #settle: (e: SandboxExit) => void = () => {};
  #vm: QemuVm | undefined;
  #ended: SandboxExit | undefined;
  /** Set while the agent itself stops QEMU (pause, dispose), so that exit is not a crash. */
  #expectingExit = false;
  #disposed = false;

  constructor(
    readonly envdUrl: string,
    readonly spec: QemuSpec,
    readonly files: QemuSandboxFiles,
  ) {
    this.exited = new Promise((resolve) => {
      this.#settle = (e) => {
        if (this.#ended) return;
        this.#ended = e;
        resolve(e);
      };
    });
  }

  /**
   * Adopts a started VM, waits for envd and tells it the capsule (re)started (`/init`).
   * `restored`: the VM came from a snapshot taken while envd listened, so `/init` goes out at
   * once and its answer (any HTTP status: envd may hold another capsule's token) is the
   * readiness signal; a `/health` poll (with its interval and short per-try timeouts, which
   * the first request of a restored TCG guest can exceed while its code is retranslated)
   * only runs when envd cannot be reached.
   */
  async attach(vm: QemuVm, signal?: AbortSignal, restored = false): Promise<void> {
    this.#vm = vm;
    this.#expectingExit = false;
    void vm.process.exited.then((e) => {
      if (this.#vm === vm && !this.#expectingExit) {
        this.#vm = undefined;
        this.#settle({ ...e, reason: `QEMU exited unexpectedly: ${vm.process.stderrTail().trim().slice(-300)}` });
      }
    });
    const { onPhase } = this.files;
    if (restored) {
      const status = await timed(onPhase, "/init", () => notifyResumed(this.envdUrl, RESTORED_INIT_TIMEOUT_MS));
      if (status !== undefined) return;
    }
    await timed(onPhase, "guest → /health", () =>
      waitForHealth(
        this.envdUrl,
        HEALTH_TIMEOUT_MS,
        () =>
          this.#ended ? new PlatformError("internal", "QEMU_EXITED", this.#ended.reason ?? "QEMU exited") : undefined,
        signal,
      ),
    );
    await timed(onPhase, "/init", () => notifyResumed(this.envdUrl));
  }

  async pause(signal?: AbortSignal): Promise<PauseMode> {
    const vm = this.#live();
    if (!vm) return "memory"; // already paused
    this.#expectingExit = true;
    await timed(this.files.onPhase, "save", () => vm.saveAndQuit(this.files.stateFile, signal));
    this.#vm = undefined;
    return "memory";
  }

  async resume(signal?: AbortSignal): Promise<void> {
    if (this.#live()) return;
    await this.restoreFrom(this.files.stateFile, signal);
    // The restored guest now owns the state; the file would only go stale.
    await rm(this.files.stateFile, { force: true });
  }

  /**
   * Starts QEMU restoring from `stateFile` (own pause file or a snapshot), then attach().
   * `templateRam`: the template snapshot's RAM image, mapped copy-on-write (its state file holds
   * no RAM). Without it the guest RAM is anonymous and filled from `stateFile`.
   */
  async restoreFrom(stateFile: string, signal?: AbortSignal, templateRam?: string): Promise<void> {
    const { onPhase } = this.files;
    const spec: QemuSpec =
      templateRam === undefined ? this.spec : { ...this.spec, ramFile: { path: templateRam, shared: false } };
    const vm = await timed(onPhase, "qemu start", () => QemuVm.start(spec, stateFile, signal));
    try {
      await timed(onPhase, "incoming load", () => vm.waitIncomingLoaded(signal));
      await timed(onPhase, "cont", () => vm.cont());
      await this.attach(vm, signal, true);
    } catch (err) {
      this.#expectingExit = true;
      await vm.quit();
      this.#vm = undefined;
      throw err;
    }
  }

  /**
   * Writes the paused capsule into `dir`. `snapshot`: its memory + device state (hard-linked
   * when possible: resume deletes the capsule's own copy, never the template's) and its disk
   * flattened into one standalone qcow2, so a capsule created from it restores with memory.
   * `base`: the disk flattened into a raw ext4 and checked by e2fsck (the guest ran `sync`
   * before the pause), booted fresh by capsules created from it.
   */
  async materialize(dir: string, kind: TemplateKind, signal?: AbortSignal): Promise<MaterializedTemplate> {
    if (this.#live()) throw new PlatformError("failed_precondition", "SANDBOX_NOT_PAUSED", "pause the capsule first");
    const runner = this.files.runner ?? new ExecFileRunner();
    const long = { signal, timeoutMs: 30 * 60_000 };
    if (kind === "base") {
      const ext4 = join(dir, "rootfs.ext4");
      await runChecked(runner, ["qemu-img", "convert", "-O", "raw", this.files.overlay, ext4], long);
      // 0: clean, 1: errors corrected (the journal of a filesystem copied while mounted).
      const fsck = await runner.run(["e2fsck", "-fy", ext4], long);
      if (fsck.exitCode > 1) throw new PlatformError("internal", "E2FSCK_FAILED", `e2fsck exited ${fsck.exitCode}`);
      return {
        mode: "filesystem",
        note: "image only: processes and memory are not kept",
        files: { ext4: "rootfs.ext4" },
      };
    }
    const state = join(dir, "vm.state");
    await link(this.files.stateFile, state).catch(() => copyFile(this.files.stateFile, state));
    await runChecked(runner, ["qemu-img", "convert", "-O", "qcow2", this.files.overlay, join(dir, "disk.qcow2")], long);
    const { vcpus, memoryMb, kernel, initrd } = this.spec;
    return {
      mode: "memory",
      note: "",
      files: { vmState: "vm.state", disk: "disk.qcow2" },
      vm: { vcpus, memoryMb, kernel, initrd },
    };
  }

  async usage(): Promise<SandboxUsage> {
    const diskBytes = await blocksOf(this.files.overlay);
    const vm = this.#vm;
    if (!vm)
      return { cpuUsageMicros: 0, memoryBytes: 0, diskBytes: diskBytes + (await blocksOf(this.files.stateFile)) };
    const pid = vm.process.pid;
    const [statText, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, "utf8").catch(() => ""),
      readFile(`/proc/${pid}/status`, "utf8").catch(() => ""),
    ]);
    // Fields after the ")" of comm: utime and stime are the 12th and 13th.
    const fields = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuUsageMicros: ticks * TICK_MICROS, memoryBytes: rssKb * 1024, diskBytes };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#expectingExit = true;
    const vm = this.#vm;
    this.#vm = undefined;
    const exit = vm ? await vm.quit() : { code: 0, signal: null };
    for (const f of [this.files.overlay, this.files.stateFile, this.spec.qmpSocket, this.spec.serialLog]) {
      await rm(f, { force: true });
    }
    this.#settle({ ...exit, reason: "destroyed" });
  }

  #live(): QemuVm | undefined {
    if (this.#disposed) throw new PlatformError("failed_precondition", "SANDBOX_DISPOSED", "capsule was destroyed");
    return this.#vm;
  }
}

async function blocksOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  return s ? s.blocks * 512 : 0;
}
