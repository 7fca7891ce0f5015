import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AsyncDisposableStore, PlatformError, sleep } from "@wrenn/kit";
import { type CommandRunner, ExecFileRunner, runChecked } from "../../exec/command-runner.js";
import type { PidFiles } from "../../exec/pid-files.js";
import { type SupervisedProcess, spawnSupervised } from "../../exec/spawn-supervised.js";
import { mountsBelow, parseMountPoints } from "../../images/safe-remove.js";
import type {
  MaterializedTemplate,
  PauseMode,
  Runtime,
  RuntimeAvailability,
  SandboxExit,
  SandboxHandle,
  SandboxSpec,
  SandboxUsage,
  TemplateKind,
} from "../runtime.js";
import { launcherArch, planLaunch } from "./capsule-init.js";
import { prepareCapsuleRoot } from "./capsule-root.js";
import { type CgroupPlan, planCgroup } from "./cgroup-plan.js";
import {
  type CgroupHost,
  cgroupPids,
  cgroupUsage,
  createCgroup,
  detectCgroups,
  freeze,
  killAll,
  removeCgroup,
  thaw,
} from "./cgroups.js";
import { namespaceMemoryNote } from "./criu.js";
import { TreeUsageMeter } from "./disk-usage.js";
import { waitHealthy } from "./health.js";

/** Options of {@link NamespaceRuntime}. */
export interface NamespaceRuntimeOptions {
  readonly runner?: CommandRunner;
  /** One cgroup path segment shared by this agent's capsules. @default "wrenn" */
  readonly cgroupParent?: string;
  /** resolv.conf text for capsules. @default the host's /etc/resolv.conf */
  readonly resolvConf?: string;
  /** Task (thread) budget per capsule. @default 1024 */
  readonly pidsMax?: number;
  /** How long envd may take to answer /health. @default 15000 */
  readonly readyTimeoutMs?: number;
  /** The image's init (tini → envd). @default "/usr/local/bin/wrenn-init" */
  readonly init?: string;
  /** Records each capsule launcher's PID while it runs (crash cleanup beside the cgroups). */
  readonly pidFiles?: PidFiles;
  /**
   * Shortest time between two measurements of a capsule's writable layer for its disk
   * metric (a walk of the upper dir, only when the capsule used CPU since). @default 10000
   */
  readonly diskIntervalMs?: number;
  /**
   * Called with each create step's duration (ms), for benchmarks. `overlay`, `identity` and
   * `cgroup` run at once; `prepare` is the wall time of all three.
   */
  readonly onPhase?: (phase: NamespaceCreatePhase, ms: number) => void;
}

/** A timed step of a namespace capsule's create (see NamespaceRuntimeOptions.onPhase). */
export type NamespaceCreatePhase = "overlay" | "identity" | "cgroup" | "prepare" | "launch" | "ready";

const ENVD_PORT = 49983;
/** What envd's JSON log line says once its server listens (apps/envd/src/server.ts). */
const ENVD_LISTENING = '"msg":"envd listening"';

/**
 * Runs capsules in Linux namespaces (pid, mount, net, uts, ipc, cgroup) on an overlayfs
 * copy-on-write root over the template, with cgroup limits (v1 or v2), docker's default
 * capability bounding set (minus CAP_MKNOD) and read-only /proc/sys. Pause = cgroup freezer.
 */
export class NamespaceRuntime implements Runtime {
  readonly kind = "namespace";
  readonly #runner: CommandRunner;
  readonly #opts: NamespaceRuntimeOptions;
  #cgroups: Promise<CgroupHost | { missing: string }> | undefined;

  constructor(opts: NamespaceRuntimeOptions = {}) {
    this.#opts = opts;
    this.#runner = opts.runner ?? new ExecFileRunner();
  }

  async availability(): Promise<RuntimeAvailability> {
    if (process.platform !== "linux") return { available: false, reason: "namespaces need Linux" };
    if (process.getuid?.() !== 0) return { available: false, reason: "the namespace runtime needs root" };
    for (const bin of ["/usr/bin/unshare", "/usr/bin/nsenter", "/usr/bin/setpriv"]) {
      if (!existsSync(bin)) return { available: false, reason: `${bin} is missing (apt-get install util-linux)` };
    }
    if (!existsSync("/usr/bin/perl")) return { available: false, reason: "/usr/bin/perl is missing (perl-base)" };
    if (!launcherArch(process.arch)) return { available: false, reason: `unsupported architecture ${process.arch}` };
    const fs = await readFile("/proc/filesystems", "utf8");
    if (!/\boverlay\b/.test(fs)) return { available: false, reason: "the kernel has no overlayfs" };
    const cg = await this.#cgroupHost();
    if ("missing" in cg) return { available: false, reason: `missing ${cg.missing}` };
    return { available: true, reason: `namespaces + overlayfs + cgroup v${cg.version}` };
  }

  /**
   * Removes what a previous agent run left (after a crash): kills the tasks of every capsule
   * cgroup under this runtime's parent, removes those cgroups, and unmounts overlays below
   * `stateRoot`. Run at agent start, before any create.
   */
  async cleanupLeftovers(stateRoot: string): Promise<void> {
    const cg = await this.#cgroupHost();
    if (!("missing" in cg)) {
      const parent = this.#opts.cgroupParent ?? "wrenn";
      const names = new Set<string>();
      const mounts = cg.version === 2 ? [cg.root] : Object.values(cg.v1Mounts);
      for (const m of mounts) {
        const entries = await readdir(join(m, parent), { withFileTypes: true }).catch(() => []);
        for (const e of entries) if (e.isDirectory()) names.add(e.name);
      }
      for (const name of names) {
        const plan = planCgroup(
          cg.version,
          cg.root,
          parent,
          name,
          { memoryBytes: 0, cpus: 1, pidsMax: 1 },
          cg.v1Mounts,
        );
        await killAll(plan);
        await removeCgroup(plan);
      }
    }
    const info = await readFile("/proc/self/mountinfo", "utf8");
    for (const m of mountsBelow(parseMountPoints(info), stateRoot)) await runChecked(this.#runner, ["umount", m]);
  }

  #cgroupHost(): Promise<CgroupHost | { missing: string }> {
    this.#cgroups ??= detectCgroups();
    return this.#cgroups;
  }

  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    signal?.throwIfAborted();
    for (const p of [spec.image.rootfsDir, spec.stateDir]) {
      // overlayfs options are comma/colon separated: such paths cannot be passed safely.
      if (!p.startsWith("/") || /[,:\s]/.test(p)) {
        throw new PlatformError("invalid_argument", "BAD_PATH", `unusable path for an overlay: ${p}`);
      }
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(spec.sandboxId)) {
      throw new PlatformError("invalid_argument", "BAD_SANDBOX_ID", `unusable sandbox id: ${spec.sandboxId}`);
    }
    const arch = launcherArch(process.arch);
    if (!arch) throw new PlatformError("failed_precondition", "UNSUPPORTED_ARCH", `unsupported architecture`);
    const cg = await this.#cgroupHost();
    if ("missing" in cg) throw new PlatformError("failed_precondition", "NO_CGROUPS", `missing ${cg.missing}`);
    const store = new AsyncDisposableStore();
    const onPhase = this.#opts.onPhase;
    const t0 = performance.now();
    try {
      const hostname = capsuleHostname(spec.sandboxId);
      // The overlay and the cgroup do not depend on each other: made at once.
      const capsuleRoot = prepareCapsuleRoot({
        sandboxId: spec.sandboxId,
        lowerDir: spec.image.rootfsDir,
        stateDir: spec.stateDir,
        hostname,
        resolvConf: this.#opts.resolvConf,
        runner: this.#runner,
        store,
        ...(onPhase ? { onStep: onPhase } : {}),
      });
      const cgroup = (async () => {
        const t = performance.now();
        const made = await createCgroup(cg, this.#opts.cgroupParent ?? "wrenn", spec.sandboxId, {
          memoryBytes: spec.memoryMb * 1024 * 1024,
          cpus: spec.vcpus,
          pidsMax: this.#opts.pidsMax ?? 1024,
        });
        store.defer(async () => {
          await killAll(made);
          await removeCgroup(made);
        });
        onPhase?.("cgroup", performance.now() - t);
        return made;
      })();
      const [rootDone, cgroupDone] = await Promise.allSettled([capsuleRoot, cgroup]);
      if (rootDone.status === "rejected") throw rootDone.reason;
      if (cgroupDone.status === "rejected") throw cgroupDone.reason;
      const { root, upper, scriptPath } = rootDone.value;
      const plan = cgroupDone.value;
      onPhase?.("prepare", performance.now() - t0);
      signal?.throwIfAborted();

      const guestIp = spec.network.guestIp;
      const argv = planLaunch({
        scriptPath,
        netnsPath: spec.network.netnsPath,
        cgroupProcs: plan.procsFiles,
        rootDir: root,
        hostname,
        tmpfsMiB: Math.max(1, Math.floor(spec.memoryMb / 2)),
        init: [this.#opts.init ?? "/usr/local/bin/wrenn-init", "--forward-address", guestIp],
        arch,
      });
      const t1 = performance.now();
      const launcher = await spawnSupervised(argv);
      const forget = await this.#opts.pidFiles?.record(launcher.pid, "capsule-launcher").catch(() => undefined);
      store.defer(async () => {
        await stopCapsule(launcher, plan);
        await launcher[Symbol.asyncDispose]();
        await forget?.();
      });
      const t2 = performance.now();
      onPhase?.("launch", t2 - t1);
      const envdUrl = `http://${guestIp}:${ENVD_PORT}`;
      await waitHealthy(`${envdUrl}/health`, {
        stop: launcher.exited,
        signal,
        timeoutMs: this.#opts.readyTimeoutMs ?? 15_000,
        // envd logs this line on stdout (the launcher's pipe) once it listens; an init that
        // prints nothing is still found by the probe every 20 ms.
        ready: () => launcher.output().includes(ENVD_LISTENING),
        intervalMs: 20,
        describe: (why) =>
          new PlatformError("unavailable", "CAPSULE_START_FAILED", `${why}; launcher output: ${launcher.output()}`),
      });
      onPhase?.("ready", performance.now() - t2);
      const disk = new TreeUsageMeter(upper, {
        ...(this.#opts.diskIntervalMs !== undefined ? { minIntervalMs: this.#opts.diskIntervalMs } : {}),
      });
      return new NamespaceHandle({ envdUrl, launcher, plan, store, disk, rootDir: root, runner: this.#runner });
    } catch (err) {
      await store[Symbol.asyncDispose]().catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Ends a capsule so that nothing is left as a zombie: the capsule's tasks are killed while
 * the launcher (unshare, the parent of the capsule's PID 1) is still alive to reap them, and
 * only then does the launcher exit (reaped by us). Killing the launcher first would orphan
 * PID 1 to the host's init, which here never reaps it.
 */
async function stopCapsule(launcher: SupervisedProcess, plan: CgroupPlan): Promise<void> {
  let exited = false;
  void launcher.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 5000;
  while (!exited && Date.now() < deadline) {
    for (const pid of await cgroupPids(plan)) {
      if (pid === launcher.pid) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    // Frozen tasks only act on SIGKILL once thawed.
    await thaw(plan).catch(() => undefined);
    await Promise.race([launcher.exited, sleep(20)]);
  }
  launcher.kill("SIGKILL");
  await launcher.exited;
  await killAll(plan);
}

/** A hostname from a sandbox id: at most 63 characters of [a-z0-9-]. */
export function capsuleHostname(sandboxId: string): string {
  const h = sandboxId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  return h === "" ? "capsule" : h;
}

interface NamespaceHandleParts {
  readonly envdUrl: string;
  readonly launcher: SupervisedProcess;
  readonly plan: CgroupPlan;
  readonly store: AsyncDisposableStore;
  /** Size of the writable layer (the overlay's upper dir). */
  readonly disk: TreeUsageMeter;
  /** The overlay's mount point on the host: the capsule's merged root as the host sees it. */
  readonly rootDir: string;
  readonly runner: CommandRunner;
}

class NamespaceHandle implements SandboxHandle {
  readonly envdUrl: string;
  /** The cgroup freezer stops tasks in place: memory, sockets and the host clock stay. */
  readonly pausesInPlace = true;
  readonly exited: Promise<SandboxExit>;
  readonly plan: CgroupPlan;
  readonly #parts: NamespaceHandleParts;
  #disposed: Promise<void> | undefined;

  constructor(parts: NamespaceHandleParts) {
    this.#parts = parts;
    this.envdUrl = parts.envdUrl;
    const plan = parts.plan;
    this.plan = plan;
    this.exited = parts.launcher.exited.then(async (e) => {
      const oom = await readFile(join(plan.memoryDir, "memory.oom_control"), "utf8").catch(() => "");
      const killed = Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? 0);
      return {
        code: e.code,
        signal: e.signal,
        ...(killed > 0 ? { reason: `${killed} process(es) OOM-killed in the capsule` } : {}),
      };
    });
  }

  /**
   * Copies the merged root (template + the capsule's writes) into `dir/rootfs`. The host's view
   * of the overlay holds no capsule mounts (/proc, /dev, /tmp live in the capsule's own mount
   * namespace), so tmpfs contents are not kept, as after a reboot. Same for both kinds: a new
   * capsule from it starts envd afresh on a new overlay over this copy.
   */
  async materialize(dir: string, _kind: TemplateKind, signal?: AbortSignal): Promise<MaterializedTemplate> {
    const { runner, rootDir } = this.#parts;
    await runChecked(runner, ["cp", "-a", "--one-file-system", "--", `${rootDir}/.`, join(dir, "rootfs")], {
      signal,
      timeoutMs: 30 * 60_000,
    });
    return { mode: "filesystem", note: await namespaceMemoryNote(runner), files: { rootfsDir: "rootfs" } };
  }

  async pause(signal?: AbortSignal): Promise<PauseMode> {
    await freeze(this.plan, signal);
    return "memory";
  }

  async resume(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await thaw(this.plan);
  }

  async usage(): Promise<SandboxUsage> {
    const { cpuMicros, memoryBytes } = cgroupUsage(this.plan);
    return { cpuUsageMicros: cpuMicros, memoryBytes, diskBytes: await this.#parts.disk.read(cpuMicros) };
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#disposed ??= (async () => {
      await this.#parts.store[Symbol.asyncDispose]();
    })();
    return this.#disposed;
  }
}
