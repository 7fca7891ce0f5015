import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AsyncDisposableStore, PlatformError } from "@wrenn/kit";
import { type CommandRunner, ExecFileRunner, runChecked } from "../../exec/command-runner.js";
import type { PidFiles } from "../../exec/pid-files.js";
import { spawnSupervised } from "../../exec/spawn-supervised.js";
import { mountsBelow, parseMountPoints } from "../../images/safe-remove.js";
import type { Runtime, RuntimeAvailability, SandboxSpec } from "../runtime.js";
import { launcherArch, planLaunch } from "./capsule-init.js";
import { capsuleHostname, prepareCapsuleRoot } from "./capsule-root.js";
import { planCgroup } from "./cgroup-plan.js";
import { type CgroupHost, createCgroup, detectCgroups, killAll, removeCgroup } from "./cgroups.js";
import { TreeUsageMeter } from "./disk-usage.js";
import { waitHealthy } from "./health.js";
import { type CgroupRef, NAMESPACE_SANDBOX_ID, NamespaceHandle, stopCapsule } from "./namespace-handle.js";

export { capsuleHostname } from "./capsule-root.js";

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

  /**
   * Starts a capsule and resolves once envd answers /health. The handle is a
   * {@link NamespaceHandle}: a capsule started under a pool id can later be claimed (adopt).
   */
  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<NamespaceHandle> {
    signal?.throwIfAborted();
    for (const p of [spec.image.rootfsDir, spec.stateDir]) {
      // overlayfs options are comma/colon separated: such paths cannot be passed safely.
      if (!p.startsWith("/") || /[,:\s]/.test(p)) {
        throw new PlatformError("invalid_argument", "BAD_PATH", `unusable path for an overlay: ${p}`);
      }
    }
    if (!NAMESPACE_SANDBOX_ID.test(spec.sandboxId)) {
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
      const cgroup = (async (): Promise<CgroupRef> => {
        const t = performance.now();
        const made = await createCgroup(cg, this.#opts.cgroupParent ?? "wrenn", spec.sandboxId, {
          memoryBytes: spec.memoryMb * 1024 * 1024,
          cpus: spec.vcpus,
          pidsMax: this.#opts.pidsMax ?? 1024,
        });
        // Read at dispose, not captured: claiming a pooled capsule may rename its cgroup.
        const ref: CgroupRef = { plan: made, name: spec.sandboxId };
        store.defer(async () => {
          await killAll(ref.plan);
          await removeCgroup(ref.plan);
        });
        onPhase?.("cgroup", performance.now() - t);
        return ref;
      })();
      const [rootDone, cgroupDone] = await Promise.allSettled([capsuleRoot, cgroup]);
      if (rootDone.status === "rejected") throw rootDone.reason;
      if (cgroupDone.status === "rejected") throw cgroupDone.reason;
      const { root, upper, scriptPath } = rootDone.value;
      const cgroupRef = cgroupDone.value;
      const plan = cgroupRef.plan;
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
        await stopCapsule(launcher, cgroupRef);
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
      return new NamespaceHandle({
        envdUrl,
        launcher,
        cgroup: cgroupRef,
        cgroupHost: cg,
        cgroupParent: this.#opts.cgroupParent ?? "wrenn",
        pidsMax: this.#opts.pidsMax ?? 1024,
        arch,
        store,
        disk,
        rootDir: root,
        runner: this.#runner,
      });
    } catch (err) {
      await store[Symbol.asyncDispose]().catch(() => undefined);
      throw err;
    }
  }
}
