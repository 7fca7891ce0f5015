import { join } from "node:path";

/** Which cgroup layout the host uses. */
export type CgroupVersion = 1 | 2;

/** Limits applied to one capsule's cgroup. */
export interface CgroupLimits {
  readonly memoryBytes: number;
  /** CPUs as a CFS quota (1 = one full CPU). */
  readonly cpus: number;
  /** Tasks (threads count: an idle node envd already uses ~10). */
  readonly pidsMax: number;
}

/** Where a capsule's cgroup lives and what to write there; applied in order by cgroups.ts. */
export interface CgroupPlan {
  readonly version: CgroupVersion;
  /** Directories to create, parents first. */
  readonly dirs: readonly string[];
  /** `[file, value]` writes, in order (v1 memsw must follow the memory limit). */
  readonly writes: readonly (readonly [file: string, value: string])[];
  /** Optional writes: files that some kernels lack (memsw without swap accounting). */
  readonly optionalWrites: readonly (readonly [file: string, value: string])[];
  /** cgroup.procs files the launcher joins before unsharing the cgroup namespace. */
  readonly procsFiles: readonly string[];
  /** The directory holding the freezer (v1 freezer.state, v2 cgroup.freeze). */
  readonly freezerDir: string;
  readonly memoryDir: string;
  readonly cpuDir: string;
  /** Directories to remove on dispose, children first. */
  readonly removeDirs: readonly string[];
}

/** v1 controllers a capsule joins; `cpuacct` gives the CPU usage reading. */
export const V1_CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "freezer"] as const;

const CFS_PERIOD_US = 100_000;

/**
 * Plans a capsule's cgroup. `name` is one path segment (the sandbox id) and `parent` one
 * segment shared by all capsules of an agent (e.g. `wrenn`). For v1, `v1Mounts` maps each
 * controller to its mount directory (co-mounted controllers may share one).
 */
export function planCgroup(
  version: CgroupVersion,
  root: string,
  parent: string,
  name: string,
  limits: CgroupLimits,
  v1Mounts: Readonly<Record<string, string>> = {},
): CgroupPlan {
  for (const seg of [parent, name]) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(seg)) throw new Error(`invalid cgroup name segment: ${seg}`);
  }
  const quota = String(Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US)));
  const mem = String(limits.memoryBytes);
  if (version === 2) {
    const parentDir = join(root, parent);
    const dir = join(parentDir, name);
    return {
      version,
      dirs: [parentDir, dir],
      writes: [
        // Controllers must be enabled on every ancestor for the leaf to get its files.
        [join(root, "cgroup.subtree_control"), "+memory +cpu +pids"],
        [join(parentDir, "cgroup.subtree_control"), "+memory +cpu +pids"],
        [join(dir, "memory.max"), mem],
        [join(dir, "cpu.max"), `${quota} ${CFS_PERIOD_US}`],
        [join(dir, "pids.max"), String(limits.pidsMax)],
      ],
      optionalWrites: [[join(dir, "memory.swap.max"), "0"]],
      procsFiles: [join(dir, "cgroup.procs")],
      freezerDir: dir,
      memoryDir: dir,
      cpuDir: dir,
      removeDirs: [dir],
    };
  }
  const dirOf = (ctl: string): string => join(v1Mounts[ctl] ?? join(root, ctl), parent, name);
  const uniqueMounts = [...new Set(V1_CONTROLLERS.map((c) => v1Mounts[c] ?? join(root, c)))];
  const dirs = uniqueMounts.flatMap((m) => [join(m, parent), join(m, parent, name)]);
  return {
    version,
    dirs,
    writes: [
      [join(dirOf("memory"), "memory.limit_in_bytes"), mem],
      [join(dirOf("cpu"), "cpu.cfs_period_us"), String(CFS_PERIOD_US)],
      [join(dirOf("cpu"), "cpu.cfs_quota_us"), quota],
      [join(dirOf("pids"), "pids.max"), String(limits.pidsMax)],
    ],
    // No swap for capsules: memsw = memory. Absent when swap accounting is off.
    optionalWrites: [
      [join(dirOf("memory"), "memory.memsw.limit_in_bytes"), mem],
      [join(dirOf("memory"), "memory.swappiness"), "0"],
    ],
    procsFiles: uniqueMounts.map((m) => join(m, parent, name, "cgroup.procs")),
    freezerDir: dirOf("freezer"),
    memoryDir: dirOf("memory"),
    cpuDir: dirOf("cpuacct"),
    removeDirs: uniqueMounts.map((m) => join(m, parent, name)),
  };
}
