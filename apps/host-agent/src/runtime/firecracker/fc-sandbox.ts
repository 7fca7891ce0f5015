/**
 * One Firecracker capsule: its VMM process (replaced on every resume), its private rootfs
 * copy and its snapshot. Implements SandboxHandle.
 */
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import type { PauseMode, SandboxExit, SandboxHandle, SandboxSpec, SandboxUsage } from "../runtime.js";
import type { FcApiClient } from "./fc-api-client.js";
import {
  coldBootSequence,
  createSnapshot,
  describeInstance,
  loadSnapshot,
  patchVmState,
  putMmds,
} from "./fc-requests.js";
import { readSnapshotMeta, snapshotPaths, writeSnapshotMeta } from "./fc-snapshot-meta.js";

/** A started VMM with its API ready. */
export interface FcVmm extends AsyncDisposable {
  readonly pid: number;
  readonly api: FcApiClient;
  /** Resolves when the process exits; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: string | null; output?: string }>;
}

/** What the runtime hands a sandbox. */
export interface FcSandboxInit {
  readonly spec: SandboxSpec;
  readonly rootfsPath: string;
  readonly envdUrl: string;
  readonly launch: (signal?: AbortSignal) => Promise<FcVmm>;
  readonly waitEnvd: (signal?: AbortSignal) => Promise<void>;
}

type State = "new" | "running" | "paused" | "crashed" | "gone";

/** Linux reports CPU time in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

/** A Firecracker capsule handle. */
export class FcSandbox implements SandboxHandle {
  readonly envdUrl: string;
  readonly exited: Promise<SandboxExit>;
  #resolveExit: (e: SandboxExit) => void = () => {};
  #vmm: FcVmm | undefined;
  #state: State = "new";
  #disposed = false;
  #lastCpuMicros = 0;
  readonly #init: FcSandboxInit;

  constructor(init: FcSandboxInit) {
    this.#init = init;
    this.envdUrl = init.envdUrl;
    this.exited = new Promise((r) => {
      this.#resolveExit = r;
    });
  }

  /** The current VMM process id; undefined while paused or gone. */
  get pid(): number | undefined {
    return this.#vmm?.pid;
  }

  /** Current lifecycle state (for tests and logs). */
  get state(): State {
    return this.#state;
  }

  /** Cold boot from `kernel` (the image resolver's kernel and initramfs): configure the VM, start it, wait for envd. */
  async boot(
    kernel: { readonly kernelPath: string; readonly initrdPath?: string },
    signal?: AbortSignal,
  ): Promise<void> {
    const { spec } = this.#init;
    const vmm = await this.#start(signal);
    await vmm.api.sendAll(
      coldBootSequence({
        kernelPath: kernel.kernelPath,
        ...(kernel.initrdPath !== undefined ? { initrdPath: kernel.initrdPath } : {}),
        rootfsPath: this.#init.rootfsPath,
        sandboxId: spec.sandboxId,
        templateId: spec.templateId,
        vcpus: spec.vcpus,
        memoryMb: spec.memoryMb,
      }),
      signal,
    );
    await this.#init.waitEnvd(signal);
    this.#state = "running";
  }

  async pause(signal?: AbortSignal): Promise<PauseMode> {
    const vmm = this.#vmm;
    if (this.#state !== "running" || !vmm) throw new Error(`cannot pause a capsule that is ${this.#state}`);
    const { spec } = this.#init;
    const paths = snapshotPaths(spec.stateDir);
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    await vmm.api.send(patchVmState("Paused"), signal);
    try {
      await vmm.api.send(createSnapshot(paths.vmstate, paths.memfile), signal);
      await writeSnapshotMeta(paths.meta, {
        version: 1,
        sandboxId: spec.sandboxId,
        templateId: spec.templateId,
        vmstate: "vmstate",
        memfile: "memfile",
        vcpus: spec.vcpus,
        memoryMb: spec.memoryMb,
      });
    } catch (err) {
      // Leave the capsule as it was: running.
      await vmm.api.send(patchVmState("Resumed")).catch(() => {});
      throw err;
    }
    this.#lastCpuMicros = await cpuMicros(vmm.pid).catch(() => this.#lastCpuMicros);
    // The snapshot holds everything; the process only costs memory now.
    this.#vmm = undefined;
    this.#state = "paused";
    await vmm[Symbol.asyncDispose]();
    return "memory";
  }

  async resume(signal?: AbortSignal): Promise<void> {
    if (this.#state !== "paused") throw new Error(`cannot resume a capsule that is ${this.#state}`);
    const paths = snapshotPaths(this.#init.spec.stateDir);
    // The template id comes from the snapshot, not from memory: it must survive an agent restart.
    const meta = await readSnapshotMeta(paths.meta);
    const vmm = await this.#start(signal);
    try {
      await vmm.api.send(loadSnapshot(paths.vmstate, { type: "File", path: paths.memfile }, false), signal);
      await vmm.api.send(patchVmState("Resumed"), signal);
      await vmm.api.send(putMmds({ sandboxId: meta.sandboxId, templateId: meta.templateId }), signal);
      await this.#init.waitEnvd(signal);
    } catch (err) {
      // Back to paused: the snapshot on disk is still the truth.
      this.#vmm = undefined;
      await vmm[Symbol.asyncDispose]();
      throw err;
    }
    this.#state = "running";
  }

  async usage(): Promise<SandboxUsage> {
    const vmm = this.#vmm;
    const disk = await allocatedBytes(this.#init.rootfsPath);
    if (!vmm) return { cpuUsageMicros: this.#lastCpuMicros, memoryBytes: 0, diskBytes: disk };
    const cpu = await cpuMicros(vmm.pid).catch(() => 0);
    const mem = await rssBytes(vmm.pid).catch(() => 0);
    // CPU time restarts from 0 with each new process; keep the series monotonic.
    return { cpuUsageMicros: this.#lastCpuMicros + cpu, memoryBytes: mem, diskBytes: disk };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#state = "gone";
    const vmm = this.#vmm;
    this.#vmm = undefined;
    if (vmm) await vmm[Symbol.asyncDispose]();
    await rm(this.#init.spec.stateDir, { recursive: true, force: true });
    this.#resolveExit({ code: null, signal: null, reason: "destroyed" });
  }

  async #start(signal?: AbortSignal): Promise<FcVmm> {
    const vmm = await this.#init.launch(signal);
    this.#vmm = vmm;
    // Readiness: the API answers GET / as soon as it serves.
    await vmm.api.send(describeInstance(), signal);
    void vmm.exited.then((e) => {
      // Only an exit we did not ask for is a crash (pause and destroy clear #vmm first).
      if (this.#vmm !== vmm) return;
      this.#vmm = undefined;
      // Its state dir stays until dispose (the agent may want the VMM's output or disk).
      this.#state = "crashed";
      this.#resolveExit({
        code: e.code,
        signal: e.signal,
        reason: `firecracker exited: ${(e.output ?? "").trim().slice(-500)}`,
      });
    });
    return vmm;
  }
}

/** utime+stime of `pid` in microseconds (/proc/<pid>/stat fields 14 and 15). */
async function cpuMicros(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name may contain spaces; fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Math.round((ticks * 1_000_000) / TICKS_PER_SECOND);
}

async function rssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

async function allocatedBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).blocks * 512;
  } catch {
    return 0;
  }
}
