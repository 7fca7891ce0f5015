import { closeSync, existsSync, mkdirSync, openSync, readSync, writeFileSync } from "node:fs";
import { readFile, rename, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "@wrenn/kit";
import { type CgroupLimits, type CgroupPlan, type CgroupVersion, planCgroup, V1_CONTROLLERS } from "./cgroup-plan.js";

/** The host's cgroup layout, found once per agent. */
export interface CgroupHost {
  readonly version: CgroupVersion;
  readonly root: string;
  /** v1: controller → mount directory. */
  readonly v1Mounts: Readonly<Record<string, string>>;
}

/** Finds the cgroup layout from /proc/self/mountinfo; undefined when a needed controller is missing. */
export async function detectCgroups(root = "/sys/fs/cgroup"): Promise<CgroupHost | { missing: string }> {
  if (existsSync(join(root, "cgroup.controllers"))) {
    const have = (await readFile(join(root, "cgroup.controllers"), "utf8")).split(/\s+/);
    const missing = ["memory", "cpu", "pids"].filter((c) => !have.includes(c));
    if (missing.length > 0) return { missing: `cgroup v2 controllers ${missing.join(", ")}` };
    return { version: 2, root, v1Mounts: {} };
  }
  const mounts: Record<string, string> = {};
  for (const line of (await readFile("/proc/self/mountinfo", "utf8")).split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const [fstype, , superOpts] = post.split(" ");
    const mountPoint = pre.split(" ")[4];
    if (fstype !== "cgroup" || !mountPoint || !superOpts) continue;
    for (const opt of superOpts.split(","))
      if ((V1_CONTROLLERS as readonly string[]).includes(opt)) mounts[opt] = mountPoint;
  }
  const missing = V1_CONTROLLERS.filter((c) => !mounts[c]);
  if (missing.length > 0) return { missing: `cgroup v1 controllers ${missing.join(", ")}` };
  return { version: 1, root, v1Mounts: mounts };
}

/**
 * Creates a capsule's cgroup and applies its limits; returns the plan for the later steps.
 * Synchronous file calls on purpose, like {@link cgroupUsage}: cgroupfs lives in kernel memory
 * (a mkdir or a write never waits on a disk; ~0.1 ms each), while each awaited thread-pool
 * round trip cost several ms on a loaded host, where a create waited ~35 ms for these ten.
 */
export async function createCgroup(host: CgroupHost, parent: string, name: string, limits: CgroupLimits) {
  const plan = planCgroup(host.version, host.root, parent, name, limits, host.v1Mounts);
  try {
    for (const dir of plan.dirs) mkdirSync(dir, { recursive: true });
    for (const [file, value] of plan.writes) writeFileSync(file, value);
    for (const [file, value] of plan.optionalWrites) {
      try {
        writeFileSync(file, value);
      } catch {
        // Absent on this kernel (see CgroupPlan.optionalWrites).
      }
    }
  } catch (err) {
    await removeCgroup(plan).catch(() => undefined);
    throw err;
  }
  return plan;
}

/**
 * Writes `limits` into the existing capsule cgroup `parent/name` (a pooled capsule claimed by a create with
 * its own shape). The paths and values come from the same plan as at create, so a claimed
 * capsule ends with exactly the files a fresh one gets. v1's memsw limit must never be below
 * the memory limit: it is written before (a raise; a lower value fails there and is ignored)
 * and after (a lower value) the memory limit.
 */
export function applyLimits(host: CgroupHost, parent: string, name: string, limits: CgroupLimits): void {
  const next = planCgroup(host.version, host.root, parent, name, limits, host.v1Mounts);
  const optional = (file: string, value: string) => {
    try {
      writeFileSync(file, value);
    } catch {
      // Absent on this kernel, or (memsw before the memory limit) not yet allowed.
    }
  };
  for (const [file, value] of next.optionalWrites) optional(file, value);
  // subtree_control lines concern the ancestors, set when the cgroup was made.
  for (const [file, value] of next.writes) if (!file.endsWith("cgroup.subtree_control")) writeFileSync(file, value);
  for (const [file, value] of next.optionalWrites) optional(file, value);
}

/**
 * Renames a capsule's cgroup to `to` in every hierarchy, for a pooled capsule claimed by a
 * sandbox id; the plan for the new name, or undefined when the kernel cannot (cgroup v2
 * refuses renames: EPERM) or `to` exists — the capsule then keeps its pool name, which only
 * the host sees (inside, the cgroup namespace is rooted at it either way). A rename that
 * fails half way is undone. Tasks stay where they are: a rename moves no task.
 */
export async function renameCgroup(
  host: CgroupHost,
  parent: string,
  from: string,
  to: string,
  limits: CgroupLimits,
): Promise<CgroupPlan | undefined> {
  if (host.version === 2) return undefined;
  const a = planCgroup(host.version, host.root, parent, from, limits, host.v1Mounts);
  const b = planCgroup(host.version, host.root, parent, to, limits, host.v1Mounts);
  const done: [string, string][] = [];
  try {
    for (const [i, dir] of a.removeDirs.entries()) {
      const target = b.removeDirs[i];
      if (target === undefined) throw new Error("cgroup plans differ");
      await rename(dir, target);
      done.push([dir, target]);
    }
    return b;
  } catch {
    for (const [dir, target] of done.reverse()) await rename(target, dir).catch(() => undefined);
    return undefined;
  }
}

/**
 * Freezes every task of the capsule and waits until the kernel reports it frozen. The freezer
 * files are read and written synchronously (kernel memory, see {@link createCgroup}); between
 * two reads the event loop turns once (setImmediate), so the capsule's tasks get the CPU they
 * need to reach the freezer and the agent keeps serving meanwhile.
 */
export async function freeze(plan: CgroupPlan, signal?: AbortSignal): Promise<void> {
  if (plan.version === 2) {
    writeFileSync(join(plan.freezerDir, "cgroup.freeze"), "1");
    await waitFor(() => /frozen 1/.test(readKernfs(join(plan.freezerDir, "cgroup.events"))), signal);
    return;
  }
  const state = join(plan.freezerDir, "freezer.state");
  writeFileSync(state, "FROZEN");
  // FREEZING means some task has not stopped yet; re-writing FROZEN retries them.
  await waitFor(() => {
    if (readKernfs(state).trim() === "FROZEN") return true;
    writeFileSync(state, "FROZEN");
    return false;
  }, signal);
}

/** Thaws the capsule (one synchronous write to the freezer, see {@link freeze}). */
export async function thaw(plan: CgroupPlan): Promise<void> {
  if (plan.version === 2) writeFileSync(join(plan.freezerDir, "cgroup.freeze"), "0");
  else writeFileSync(join(plan.freezerDir, "freezer.state"), "THAWED");
}

/** PIDs (host view) still in the capsule's cgroup. */
export async function cgroupPids(plan: CgroupPlan): Promise<number[]> {
  const text = await readFile(join(plan.freezerDir, "cgroup.procs"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
}

/**
 * SIGKILLs every task in the cgroup, thaws it (frozen tasks die only when thawed) and waits
 * until empty. Tasks whose parent is outside the cgroup (the launcher) go last, so they can
 * still reap the capsule's PID 1 instead of orphaning it to a host init that never reaps.
 */
export async function killAll(plan: CgroupPlan, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; ; round++) {
    const pids = await cgroupPids(plan);
    if (pids.length === 0) return;
    const inside = new Set(pids);
    const parents = await Promise.all(pids.map(parentPid));
    // For the first rounds spare the top-level tasks; they exit once their children are gone.
    const targets = round < 10 ? pids.filter((_, i) => inside.has(parents[i] ?? 0)) : pids;
    for (const pid of targets.length > 0 ? targets : pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await thaw(plan).catch(() => undefined);
    if (Date.now() > deadline) throw new Error(`cgroup ${plan.freezerDir} still has tasks ${pids.join(",")}`);
    await sleep(5);
  }
}

async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // The command name may contain spaces and parentheses: fields start after the last ")".
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? 0);
}

/** Removes the capsule's cgroup directories (the shared parent stays). */
export async function removeCgroup(plan: CgroupPlan): Promise<void> {
  for (const dir of plan.removeDirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") break;
        // EBUSY while the last exiting tasks are being released.
        if (code !== "EBUSY" || attempt > 100) throw err;
        await sleep(10);
      }
    }
  }
}

/**
 * CPU time (µs) and memory (bytes) charged to the capsule, read synchronously on purpose: the
 * metrics sampler reads this for every running capsule twice a second, cgroup files are
 * generated in memory by the kernel (a read never waits on a disk), and a synchronous
 * open/read/close costs ~5 µs here against ~115 µs for fs.promises.readFile (thread-pool
 * round trips), which at 500 capsules was the difference between ~1 % and ~25 % of a core.
 * Throws when the cgroup is gone (the capsule was destroyed meanwhile).
 */
export function cgroupUsage(plan: CgroupPlan): { cpuMicros: number; memoryBytes: number } {
  if (plan.version === 2) {
    const stat = readKernfs(join(plan.cpuDir, "cpu.stat"));
    const usec = Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0);
    return { cpuMicros: usec, memoryBytes: Number(readKernfs(join(plan.memoryDir, "memory.current")).trim()) };
  }
  const ns = Number(readKernfs(join(plan.cpuDir, "cpuacct.usage")).trim());
  const mem = Number(readKernfs(join(plan.memoryDir, "memory.usage_in_bytes")).trim());
  return { cpuMicros: Math.round(ns / 1000), memoryBytes: mem };
}

/** Room for cpu.stat (the longest file read per sample: about 10 short lines). */
const kernfsBuffer = Buffer.alloc(4096);

/** One read of a small kernel-generated file (cgroupfs); the text, at most 4 KiB. */
function readKernfs(path: string): string {
  const fd = openSync(path, "r");
  try {
    const n = readSync(fd, kernfsBuffer, 0, kernfsBuffer.length, 0);
    return kernfsBuffer.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

async function waitFor(check: () => boolean, signal?: AbortSignal, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    signal?.throwIfAborted();
    if (Date.now() > deadline) throw new Error("cgroup freezer did not settle in time");
    await new Promise((r) => setImmediate(r));
  }
}
