/**
 * A running namespace capsule as the manager holds it (NamespaceRuntime.create builds it): its
 * freezer pause, usage readings, materialize, destroy, and the claim of a pooled capsule.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type AsyncDisposableStore, PlatformError, sleep } from "@wrenn/kit";
import { type CommandRunner, runChecked } from "../../exec/command-runner.js";
import type { SupervisedProcess } from "../../exec/spawn-supervised.js";
import type {
  MaterializedTemplate,
  PauseMode,
  SandboxExit,
  SandboxHandle,
  SandboxUsage,
  TemplateKind,
} from "../runtime.js";
import { type AdoptIdentity, capsuleInitPid, planAdopt } from "./capsule-adopt.js";
import type { LauncherArch } from "./capsule-init.js";
import { capsuleHostname, writeIdentity } from "./capsule-root.js";
import type { CgroupPlan } from "./cgroup-plan.js";
import {
  applyLimits,
  type CgroupHost,
  cgroupPids,
  cgroupUsage,
  freeze,
  killAll,
  renameCgroup,
  thaw,
} from "./cgroups.js";
import { namespaceMemoryNote } from "./criu.js";
import type { TreeUsageMeter } from "./disk-usage.js";

/**
 * A capsule's cgroup, shared by the handle and the undo steps of its create: a claim may
 * rename the cgroup, and the kill/remove steps must then find it under its new name.
 */
export interface CgroupRef {
  plan: CgroupPlan;
  /** The cgroup's directory name under the agent's parent (the sandbox or pool id). */
  name: string;
}

/** What a {@link NamespaceHandle} is made of. */
export interface NamespaceHandleParts {
  readonly envdUrl: string;
  readonly launcher: SupervisedProcess;
  readonly cgroup: CgroupRef;
  readonly cgroupHost: CgroupHost;
  /** The cgroup parent segment shared by the agent's capsules. */
  readonly cgroupParent: string;
  /** Task budget written with the other limits at a claim. */
  readonly pidsMax: number;
  readonly arch: LauncherArch;
  readonly store: AsyncDisposableStore;
  /** Size of the writable layer (the overlay's upper dir). */
  readonly disk: TreeUsageMeter;
  /** The overlay's mount point on the host: the capsule's merged root as the host sees it. */
  readonly rootDir: string;
  readonly runner: CommandRunner;
}

/** Sandbox ids a namespace capsule accepts (hostname, cgroup and directory names derive from it). */
export const NAMESPACE_SANDBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The namespace runtime's SandboxHandle. */
export class NamespaceHandle implements SandboxHandle {
  readonly envdUrl: string;
  /** The cgroup freezer stops tasks in place: memory, sockets and the host clock stay. */
  readonly pausesInPlace = true;
  readonly exited: Promise<SandboxExit>;
  readonly #parts: NamespaceHandleParts;
  #disposed: Promise<void> | undefined;

  constructor(parts: NamespaceHandleParts) {
    this.#parts = parts;
    this.envdUrl = parts.envdUrl;
    const cgroup = parts.cgroup;
    this.exited = parts.launcher.exited.then(async (e) => {
      const oom = await readFile(join(cgroup.plan.memoryDir, "memory.oom_control"), "utf8").catch(() => "");
      const killed = Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? 0);
      return {
        code: e.code,
        signal: e.signal,
        ...(killed > 0 ? { reason: `${killed} process(es) OOM-killed in the capsule` } : {}),
      };
    });
  }

  /** The capsule's cgroup now (its name changes when a pooled capsule is claimed on cgroup v1). */
  get plan(): CgroupPlan {
    return this.#parts.cgroup.plan;
  }

  /**
   * Turns a capsule launched ahead of time (the warm pool, under a pool id, before envd's
   * `/init`) into the capsule `identity` names, as a fresh create would have made it: limits
   * (memory, CPU, tasks) written to its cgroup, the cgroup renamed to the sandbox id where the
   * kernel allows (v1; v2 refuses renames, see renameCgroup), /etc/hostname and /etc/hosts
   * rewritten, the kernel hostname set in its UTS namespace and /dev/shm, /run resized to half
   * its memory. envd's `/init` (ids, env, user, token) is the manager's, afterwards. Rejects
   * when the capsule is gone or a step fails; the caller then destroys it.
   */
  async adopt(identity: AdoptIdentity, signal?: AbortSignal): Promise<void> {
    if (!NAMESPACE_SANDBOX_ID.test(identity.sandboxId)) {
      throw new PlatformError("invalid_argument", "BAD_SANDBOX_ID", "unusable sandbox id");
    }
    const p = this.#parts;
    const limits = { memoryBytes: identity.memoryMb * 1024 * 1024, cpus: identity.vcpus, pidsMax: p.pidsMax };
    applyLimits(p.cgroupHost, p.cgroupParent, p.cgroup.name, limits);
    const renamed = await renameCgroup(p.cgroupHost, p.cgroupParent, p.cgroup.name, identity.sandboxId, limits);
    if (renamed) {
      p.cgroup.plan = renamed;
      p.cgroup.name = identity.sandboxId;
    }
    const initPid = await capsuleInitPid(p.launcher.pid);
    if (initPid === undefined) throw new PlatformError("unavailable", "CAPSULE_GONE", "the pooled capsule has exited");
    const hostname = capsuleHostname(identity.sandboxId);
    const argv = planAdopt({
      arch: p.arch,
      initPid,
      hostname,
      tmpfsMiB: Math.max(1, Math.floor(identity.memoryMb / 2)),
    });
    // Independent: files through the host's view of the overlay, the rest inside the namespaces.
    const steps = await Promise.allSettled([
      writeIdentity(p.rootDir, hostname, undefined),
      runChecked(p.runner, argv, { ...(signal ? { signal } : {}), timeoutMs: 10_000 }),
    ]);
    for (const s of steps) if (s.status === "rejected") throw s.reason;
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

/**
 * Ends a capsule so that nothing is left as a zombie: the capsule's tasks are killed while
 * the launcher (unshare, the parent of the capsule's PID 1) is still alive to reap them, and
 * only then does the launcher exit (reaped by us). Killing the launcher first would orphan
 * PID 1 to the host's init, which here never reaps it. `cgroup` is read at each step: a
 * claim may have renamed it.
 */
export async function stopCapsule(launcher: SupervisedProcess, cgroup: CgroupRef): Promise<void> {
  let exited = false;
  void launcher.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 5000;
  while (!exited && Date.now() < deadline) {
    for (const pid of await cgroupPids(cgroup.plan)) {
      if (pid === launcher.pid) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    // Frozen tasks only act on SIGKILL once thawed.
    await thaw(cgroup.plan).catch(() => undefined);
    await Promise.race([launcher.exited, sleep(20)]);
  }
  launcher.kill("SIGKILL");
  await launcher.exited;
  await killAll(cgroup.plan);
}
