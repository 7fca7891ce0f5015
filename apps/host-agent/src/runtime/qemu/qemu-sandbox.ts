import { readFile, rm, stat } from "node:fs/promises";
import { PlatformError } from "@wrenn/kit";
import type { PauseMode, SandboxExit, SandboxHandle, SandboxUsage } from "../runtime.js";
import { notifyResumed, waitForHealth } from "./guest-http.js";
import type { QemuSpec } from "./qemu-argv.js";
import { QemuVm } from "./qemu-vmm.js";

/** Files a capsule owns, all removed on dispose. */
export interface QemuSandboxFiles {
  readonly overlay: string;
  readonly stateFile: string;
}

const HEALTH_TIMEOUT_MS = 60_000;
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

  /** Adopts a started VM, waits for envd and tells it the capsule (re)started. */
  async attach(vm: QemuVm, signal?: AbortSignal): Promise<void> {
    this.#vm = vm;
    this.#expectingExit = false;
    void vm.process.exited.then((e) => {
      if (this.#vm === vm && !this.#expectingExit) {
        this.#vm = undefined;
        this.#settle({ ...e, reason: `QEMU exited unexpectedly: ${vm.process.stderrTail().trim().slice(-300)}` });
      }
    });
    await waitForHealth(
      this.envdUrl,
      HEALTH_TIMEOUT_MS,
      () =>
        this.#ended ? new PlatformError("internal", "QEMU_EXITED", this.#ended.reason ?? "QEMU exited") : undefined,
      signal,
    );
    await notifyResumed(this.envdUrl);
  }

  async pause(signal?: AbortSignal): Promise<PauseMode> {
    const vm = this.#live();
    if (!vm) return "memory"; // already paused
    this.#expectingExit = true;
    await vm.saveAndQuit(this.files.stateFile, signal);
    this.#vm = undefined;
    return "memory";
  }

  async resume(signal?: AbortSignal): Promise<void> {
    if (this.#live()) return;
    await this.restoreFrom(this.files.stateFile, signal);
    // The restored guest now owns the state; the file would only go stale.
    await rm(this.files.stateFile, { force: true });
  }

  /** Starts QEMU restoring from `stateFile` (own pause file or a template snapshot), then attach(). */
  async restoreFrom(stateFile: string, signal?: AbortSignal): Promise<void> {
    const vm = await QemuVm.start(this.spec, stateFile, signal);
    try {
      await vm.contAfterIncoming(signal);
      await this.attach(vm, signal);
    } catch (err) {
      this.#expectingExit = true;
      await vm.quit();
      this.#vm = undefined;
      throw err;
    }
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
