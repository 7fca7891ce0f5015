/**
 * The `firecracker` runtime: one Firecracker microVM per capsule, configured over its API
 * socket, started inside the capsule's network namespace (TAP `tap0` made by the slot plan).
 * Pause = PATCH Paused + full snapshot to the state dir (+ metadata with the template id);
 * resume = fresh process + snapshot/load + MMDS re-put with the persisted template id.
 */
import { constants } from "node:fs";
import { access, mkdir, readFile, rm, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { PlatformError } from "@wrenn/kit";
import { type CommandRunner, ExecFileRunner, runChecked } from "../../exec/command-runner.js";
import { FirecrackerProcess } from "../../exec/firecracker-process.js";
import type { Runtime, RuntimeAvailability, SandboxSpec } from "../runtime.js";
import { FcApiClient } from "./fc-api-client.js";
import { FcSandbox, type FcVmm } from "./fc-sandbox.js";

/** Port envd listens on inside the guest. */
export const ENVD_PORT = 49983;

/** Starts one VMM process with its API socket ready; injectable so tests use a fake API server. */
export type FcLauncher = (opts: { apiSocket: string; netnsPath: string }, signal?: AbortSignal) => Promise<FcVmm>;

/** Waits for envd's /health at `url`; injectable for the same reason. */
export type EnvdWaiter = (url: string, timeoutMs: number, signal?: AbortSignal) => Promise<void>;

/** Options for the runtime. */
export interface FcRuntimeOptions {
  /** Binary name or path. @default $WRENN_FIRECRACKER_BIN ?? "firecracker" */
  readonly binary?: string;
  readonly launcher?: FcLauncher;
  readonly waitEnvd?: EnvdWaiter;
  /** Runs host commands (the rootfs copy). @default ExecFileRunner */
  readonly runner?: CommandRunner;
  /** Cold boot or restore to envd ready. @default 30_000 */
  readonly readyTimeoutMs?: number;
}

/** Runs capsules as Firecracker microVMs. */
export class FirecrackerRuntime implements Runtime {
  readonly kind = "firecracker" as const;
  readonly #binary: string;
  readonly #launcher: FcLauncher;
  readonly #waitEnvd: EnvdWaiter;
  readonly #readyTimeoutMs: number;
  readonly #runner: CommandRunner;

  constructor(opts: FcRuntimeOptions = {}) {
    this.#binary = opts.binary ?? process.env["WRENN_FIRECRACKER_BIN"] ?? "firecracker";
    this.#launcher = opts.launcher ?? processLauncher(this.#binary);
    this.#waitEnvd = opts.waitEnvd ?? waitForEnvdHealth;
    this.#readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
    this.#runner = opts.runner ?? new ExecFileRunner();
  }

  async availability(): Promise<RuntimeAvailability> {
    const bin = await findExecutable(this.#binary);
    if (!bin)
      return { available: false, reason: `unavailable: no firecracker binary (${this.#binary} not found on PATH)` };
    const kvm = await kvmUsable();
    if (!kvm.ok) return { available: false, reason: `unavailable: ${kvm.reason}` };
    return { available: true, reason: `firecracker at ${bin}; ${kvm.reason}` };
  }

  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<FcSandbox> {
    const { kernelPath, initrdPath, ext4Path } = spec.image;
    if (!kernelPath || !ext4Path) {
      // The image resolver supplies both for this runtime (ensureFirecrackerKernel + an ext4 build).
      throw new PlatformError(
        "failed_precondition",
        "IMAGE_NOT_BOOTABLE",
        "the firecracker runtime needs an image with a kernel and an ext4 root filesystem",
      );
    }
    const apiSocket = join(spec.stateDir, "fc.sock");
    // sun_path holds 108 bytes; a longer path fails later with a confusing bind error.
    if (Buffer.byteLength(apiSocket) > 107) throw new Error(`API socket path too long for a unix socket: ${apiSocket}`);
    await mkdir(spec.stateDir, { recursive: true, mode: 0o700 });
    const rootfs = join(spec.stateDir, "rootfs.ext4");
    try {
      // The template image is shared read-only; each capsule writes to its own copy: a reflink
      // where the filesystem supports it, else a sparse copy (ext4 images are mostly holes).
      await runChecked(this.#runner, ["cp", "--reflink=auto", "--sparse=always", "--", ext4Path, rootfs], { signal });
    } catch (err) {
      await rm(spec.stateDir, { recursive: true, force: true });
      throw err;
    }
    const sandbox = new FcSandbox({
      spec,
      rootfsPath: rootfs,
      envdUrl: `http://${spec.network.guestIp}:${ENVD_PORT}`,
      launch: (s) => this.#launcher({ apiSocket, netnsPath: spec.network.netnsPath }, s),
      waitEnvd: (s) => this.#waitEnvd(`http://${spec.network.guestIp}:${ENVD_PORT}/health`, this.#readyTimeoutMs, s),
    });
    try {
      await sandbox.boot({ kernelPath, ...(initrdPath !== undefined ? { initrdPath } : {}) }, signal);
      return sandbox;
    } catch (err) {
      await sandbox[Symbol.asyncDispose]();
      throw err;
    }
  }
}

/** The real launcher: a Firecracker process in the netns, API socket awaited (≤ 5 s like the reference). */
export function processLauncher(binary: string): FcLauncher {
  return async ({ apiSocket, netnsPath }, signal) => {
    // A stale socket from a previous process makes Firecracker refuse to start.
    await rm(apiSocket, { force: true });
    const proc = await FirecrackerProcess.spawn({ binary, apiSocket, netnsPath });
    try {
      await proc.waitForSocket(5000, signal);
    } catch (err) {
      await proc[Symbol.asyncDispose]();
      throw err;
    }
    return {
      pid: proc.pid,
      api: new FcApiClient(apiSocket),
      exited: proc.exited,
      [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose](),
    };
  };
}

/** Polls envd's /health until it answers 2xx. */
export async function waitForEnvdHealth(url: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const res = await fetch(url, {
        signal: AbortSignal.any([AbortSignal.timeout(1000), ...(signal ? [signal] : [])]),
      });
      await res.body?.cancel();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      signal?.throwIfAborted();
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`envd at ${url} not healthy after ${timeoutMs} ms (${last})`);
}

/** Finds `name` on PATH (or checks it directly if it contains a slash). */
export async function findExecutable(name: string, path = process.env["PATH"] ?? ""): Promise<string | undefined> {
  const candidates = name.includes("/")
    ? [name]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      if ((await stat(c)).isFile()) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Whether /dev/kvm can run an unmodified guest kernel. Opening /dev/kvm is not enough here:
 * this host's KVM is kvm_pvm (software, no vmx/svm), under which stock kernels hang.
 */
export async function kvmUsable(): Promise<{ ok: boolean; reason: string }> {
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch (err) {
    return { ok: false, reason: `/dev/kvm is not usable: ${err instanceof Error ? err.message : String(err)}` };
  }
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo)) {
    return { ok: false, reason: "/dev/kvm has no hardware virtualisation behind it (no vmx/svm flag; kvm_pvm?)" };
  }
  return { ok: true, reason: "/dev/kvm with hardware virtualisation" };
}
