import { open, rm } from "node:fs/promises";
import { PlatformError, sleep } from "@wrenn/kit";
import { type ProcessExit, type SupervisedProcess, spawnQemuProcess } from "../../exec/qemu-process.js";
import { buildQemuArgv, type QemuSpec } from "./qemu-argv.js";
import { QmpClient } from "./qmp-client.js";

const READY_TIMEOUT_MS = 15_000;
/** QEMU 7.2 throttles migration to 128 MiB/s by default; a local file wants no limit. */
const MAX_BANDWIDTH = 64 * 1024 * 1024 * 1024;
/** Paths handed to `exec:` migration are shell words inside QEMU: allow only plain ones. */
const SAFE_PATH = /^\/[A-Za-z0-9_./-]+$/;
/** The fd a restoring QEMU inherits its state file on. */
const INCOMING_FD = 3;
/**
 * On at both ends of every migration: it changes the stream format (block addresses), so both
 * must agree. A template VM (shared file RAM) then saves device state only; every other VM
 * (no shared RAM block) still migrates all of its RAM.
 */
const MIGRATION_CAPABILITIES = [{ capability: "x-ignore-shared", state: true }];

/** QEMU_RESTORE_FAILED with the end of QEMU's stderr (why it could not load), else `err`'s message. */
function restoreFailed(proc: SupervisedProcess, err: unknown): PlatformError {
  const why = proc.stderrTail().trim().split("\n").slice(-2).join(" ").slice(-300);
  const fallback = err instanceof Error ? err.message : String(err);
  return new PlatformError("internal", "QEMU_RESTORE_FAILED", `restore failed: ${why || fallback}`);
}

/** One running QEMU process plus its QMP connection. */
export class QemuVm implements AsyncDisposable {
  private constructor(
    readonly process: SupervisedProcess,
    readonly qmp: QmpClient,
    readonly spec: QemuSpec,
  ) {}

  /**
   * Starts QEMU from `spec` and resolves once QMP answers. With `incomingFile`, QEMU restores
   * from it (fd 3; loading runs on after this resolves: waitIncomingLoaded) and stays paused
   * until cont(). Start-up failure (exit before QMP) rejects
   * with QEMU's stderr.
   */
  static async start(spec: QemuSpec, incomingFile?: string, signal?: AbortSignal): Promise<QemuVm> {
    await rm(spec.qmpSocket, { force: true });
    const file = incomingFile === undefined ? undefined : await open(incomingFile, "r");
    let proc: SupervisedProcess;
    try {
      const argv = buildQemuArgv({ ...spec, incomingFd: file === undefined ? undefined : INCOMING_FD });
      proc = await spawnQemuProcess(argv, file === undefined ? [] : [file.fd]);
    } finally {
      await file?.close(); // the child holds its own copy
    }
    let exit: ProcessExit | undefined;
    const forget = await spec.pidFiles?.record(proc.pid, "qemu").catch(() => undefined);
    void proc.exited.then((e) => {
      exit = e;
      void forget?.().catch(() => undefined);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exit) {
        // QEMU's own words (a bad path, a busy TAP...) are what makes this error actionable.
        const why = proc.stderrTail().trim().split("\n").slice(-3).join(" ").slice(-400);
        throw new PlatformError(
          "internal",
          "QEMU_START_FAILED",
          `QEMU exited during start-up (code ${exit.code}): ${why}`,
          {
            details: { stderr: proc.stderrTail() },
          },
        );
      }
      if (signal?.aborted || Date.now() > deadline) {
        await proc.stop(1000);
        if (signal?.aborted) throw signal.reason;
        throw new PlatformError("deadline_exceeded", "QEMU_START_TIMEOUT", "QMP did not answer in time", {
          details: { stderr: proc.stderrTail() },
        });
      }
      const qmp = await QmpClient.connect(spec.qmpSocket, signal).catch(() => undefined);
      if (!qmp) {
        await sleep(20);
        continue;
      }
      const vm = new QemuVm(proc, qmp, spec);
      if (file === undefined) return vm;
      try {
        await qmp.execute("migrate-set-capabilities", { capabilities: MIGRATION_CAPABILITIES });
        await qmp.execute("migrate-incoming", { uri: `fd:${INCOMING_FD}` });
        return vm;
      } catch (err) {
        await vm.quit();
        throw restoreFailed(proc, err);
      }
    }
  }

  /** The guest run state (`running`, `paused`, `inmigrate`, …). */
  async status(): Promise<string> {
    return (await this.qmp.execute<{ status: string }>("query-status")).status;
  }

  /**
   * After `-incoming`: resolves once the state is loaded (`paused`, or `running` when the
   * snapshot was taken running); rejects when the load failed.
   */
  async waitIncomingLoaded(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      // A stream QEMU cannot load makes it exit: say so with its own words, not "QMP closed".
      const s = await this.status().catch((err: unknown) => {
        throw restoreFailed(this.process, err);
      });
      if (s === "paused" || s === "postmigrate" || s === "running") return;
      if (s !== "inmigrate") throw new PlatformError("internal", "QEMU_RESTORE_FAILED", `restore ended in ${s}`);
      await sleep(10);
    }
  }

  /** Resumes the vCPUs (a no-op when they already run). */
  async cont(): Promise<void> {
    if ((await this.status()) !== "running") await this.qmp.execute("cont");
  }

  /** Stops vCPUs and writes memory + device state to `file`, then quits QEMU. */
  async saveAndQuit(file: string, signal?: AbortSignal): Promise<void> {
    if (!SAFE_PATH.test(file)) throw new PlatformError("invalid_argument", "BAD_STATE_PATH", `unsafe path ${file}`);
    await this.qmp.execute("stop");
    await this.qmp.execute("migrate-set-parameters", { "max-bandwidth": MAX_BANDWIDTH });
    await this.qmp.execute("migrate-set-capabilities", { capabilities: MIGRATION_CAPABILITIES });
    // QEMU 7.2 has no file: URI; exec: runs `sh -c` inside QEMU with a path checked above.
    await this.qmp.execute("migrate", { uri: `exec:cat > ${file}` });
    for (;;) {
      signal?.throwIfAborted();
      const info = await this.qmp.execute<{ status?: string; "error-desc"?: string }>("query-migrate");
      if (info.status === "completed") break;
      if (info.status === "failed" || info.status === "cancelled") {
        throw new PlatformError(
          "internal",
          "QEMU_SAVE_FAILED",
          `migration ${info.status}: ${info["error-desc"] ?? ""}`,
        );
      }
      await sleep(10);
    }
    await this.quit();
  }

  /** Asks QEMU to quit over QMP, then SIGTERM → SIGKILL; resolves when the process is gone. */
  async quit(): Promise<ProcessExit> {
    await this.qmp.execute("quit").catch(() => undefined);
    const exit = await Promise.race([this.process.exited, sleep(2000).then(() => undefined)]);
    this.qmp.close();
    return exit ?? (await this.process.stop(2000));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.quit();
  }
}
