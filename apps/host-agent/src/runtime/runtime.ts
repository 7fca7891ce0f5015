import type { NetworkSlot } from "../net/network-provider.js";

/**
 * Which isolation technology runs a capsule. "loopback" runs envd as a plain
 * child process on 127.0.0.1 with no isolation: for tests and development only.
 */
export type RuntimeKind = "namespace" | "qemu" | "firecracker" | "loopback";

/** Whether a runtime can run on this machine, and why (printed by the agent and `./wrenn up`). */
export interface RuntimeAvailability {
  readonly available: boolean;
  /** One human sentence: what was found or what is missing (e.g. "/dev/kvm is not usable: ..."). */
  readonly reason: string;
}

/** The guest image a capsule starts from (see images/image-builder.ts and templates/). */
export interface RuntimeImage {
  /** Template root filesystem directory (read-only lower layer for the namespace runtime). */
  readonly rootfsDir: string;
  /** ext4 image of the same tree, for VM runtimes. */
  readonly ext4Path?: string;
  /** Guest kernel for VM runtimes (firecracker: an uncompressed ELF vmlinux). */
  readonly kernelPath?: string;
  /** Initramfs the kernel boots with (firecracker; QEMU finds its own next to its kernel). */
  readonly initrdPath?: string;
  /**
   * A VM snapshot template (memory + devices + disk): VM runtimes restore it instead of
   * booting or restoring their own pre-booted template. Only the runtime that wrote it can.
   */
  readonly vmSnapshot?: VmSnapshotImage;
  /**
   * The envd access token the restored envd already holds (a memory snapshot of a capsule that
   * had one): the first `/init` must present it to set the new capsule's own token.
   */
  readonly envdAccessToken?: string;
}

/** The files and VM shape of a VM snapshot template; restore needs the identical shape. */
export interface VmSnapshotImage {
  /** Memory + device state (the migration stream). */
  readonly stateFile: string;
  /** Standalone disk (no backing chain) consistent with the state. */
  readonly disk: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly kernel: string;
  readonly initrd: string;
}

/**
 * What a capsule becomes when written into a template directory:
 * - `snapshot`: everything the runtime can keep (a VM's memory; a namespace capsule's files),
 * - `base`: only the root filesystem, as a clean image (the capsule is destroyed afterwards).
 */
export type TemplateKind = "snapshot" | "base";

/** What {@link SandboxHandle.materialize} wrote. */
export interface MaterializedTemplate {
  /** `memory` when processes and memory restore from the template, else `filesystem`. */
  readonly mode: PauseMode;
  /** One sentence on what was not kept and why (empty when everything was). */
  readonly note: string;
  /** File names inside the template directory, by role. */
  readonly files: {
    readonly rootfsDir?: string;
    readonly ext4?: string;
    readonly vmState?: string;
    readonly disk?: string;
  };
  /** The VM shape a snapshot restores into (VM runtimes only). */
  readonly vm?: Omit<VmSnapshotImage, "stateFile" | "disk">;
}

/** Everything a runtime needs to start one capsule. */
export interface SandboxSpec {
  readonly sandboxId: string;
  readonly templateId: string;
  readonly image: RuntimeImage;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly diskMb: number;
  /** The capsule's network slot; the runtime puts the capsule inside `slot.netnsPath`. */
  readonly network: NetworkSlot;
  /** Directory owned by this capsule for its writable layer, sockets, snapshots. */
  readonly stateDir: string;
}

/** How a pause kept the capsule. */
export type PauseMode =
  /** Processes and memory kept (freezer, VM memory snapshot, CRIU). */
  | "memory"
  /** Only the filesystem kept; processes restart on resume. */
  | "filesystem";

/** How a capsule's process tree ended. Never rejects: crashes are reported, not thrown. */
export interface SandboxExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the runtime could tell why (OOM, VMM crash...). */
  readonly reason?: string;
}

/** A running (or paused) capsule. Dispose = destroy: kills everything and removes its writable layer. */
export interface SandboxHandle extends AsyncDisposable {
  /** envd's base URL as the host reaches it, e.g. http://10.211.3.2:49983 */
  readonly envdUrl: string;
  /** Resolves when the capsule's init exits (crash or stop); never rejects. */
  readonly exited: Promise<SandboxExit>;
  /**
   * True when pause stops the capsule's processes where they are (cgroup freezer, SIGSTOP) and
   * resume lets them go on: nothing is saved or restored, so the guest keeps its connections,
   * clock, settings and ids, and the manager skips envd's snapshot preparation before pause and
   * its `/init` after resume (unless ResumeSandbox changes a setting). Absent or false: pause
   * saves a snapshot that resume restores (VM runtimes), and envd is told on both sides.
   */
  readonly pausesInPlace?: boolean;
  /** Stops every process with memory kept where the runtime can. */
  pause(signal?: AbortSignal): Promise<PauseMode>;
  resume(signal?: AbortSignal): Promise<void>;
  /** Resource usage now, for the metrics sampler. */
  usage(): Promise<SandboxUsage>;
  /**
   * Writes the PAUSED capsule into `dir` (an empty directory) as a template of `kind`. The
   * capsule stays paused. Absent on runtimes that cannot make templates.
   */
  materialize?(dir: string, kind: TemplateKind, signal?: AbortSignal): Promise<MaterializedTemplate>;
}

/** A point-in-time resource reading. */
export interface SandboxUsage {
  /** CPU time consumed so far, in microseconds (the sampler derives a percentage). */
  readonly cpuUsageMicros: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
}

/** One way of running capsules. The contract suite in runtime-contract.ts runs against every implementation. */
export interface Runtime {
  readonly kind: RuntimeKind;
  availability(): Promise<RuntimeAvailability>;
  /** Starts a capsule and resolves once envd answers /health. */
  create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle>;
}
