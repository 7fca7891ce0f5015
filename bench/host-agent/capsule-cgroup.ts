/** Direct access to a bench namespace capsule's cgroup: raw freezer writes, its processes, its memcg. */
import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { planCgroup } from "../../apps/host-agent/src/runtime/namespace/cgroup-plan.js";
import { detectCgroups } from "../../apps/host-agent/src/runtime/namespace/cgroups.js";
import { BENCH_CGROUP_PARENT } from "./environment.js";

/** Where one capsule's cgroup lives (the same plan the namespace runtime used to make it). */
export interface CapsuleCgroup {
  readonly version: 1 | 2;
  readonly freezerDir: string;
  readonly memoryDir: string;
}

/** The cgroup of bench capsule `sandboxId`. */
export async function capsuleCgroup(sandboxId: string): Promise<CapsuleCgroup> {
  const host = await detectCgroups();
  if ("missing" in host) throw new Error(`no usable cgroups: missing ${host.missing}`);
  // Limits do not change where the cgroup is; placeholders satisfy the planner.
  const plan = planCgroup(
    host.version,
    host.root,
    BENCH_CGROUP_PARENT,
    sandboxId,
    { memoryBytes: 1, cpus: 1, pidsMax: 1 },
    host.v1Mounts,
  );
  return { version: plan.version, freezerDir: plan.freezerDir, memoryDir: plan.memoryDir };
}

/** Host PIDs of every process in the capsule. */
export async function capsulePids(cg: CapsuleCgroup): Promise<number[]> {
  const text = await readFile(join(cg.freezerDir, "cgroup.procs"), "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
}

/** Memory charged to the capsule's memcg (pages it touched, including page cache), in bytes. */
export async function memcgUsage(cg: CapsuleCgroup): Promise<number> {
  const file = cg.version === 2 ? "memory.current" : "memory.usage_in_bytes";
  return Number((await readFile(join(cg.memoryDir, file), "utf8")).trim());
}

/**
 * The floor of a freezer pause/resume: one synchronous write straight to the capsule's
 * freezer file, then synchronous reads until the kernel reports the state, yielding the CPU
 * between reads (the capsule's tasks need it to reach the freezer: spinning on one of two
 * vCPUs slows exactly what is measured). No FREEZING retry, no thread pool. Returns both
 * durations in ms; leaves the capsule thawed.
 */
export async function rawFreezerCycle(cg: CapsuleCgroup): Promise<{ freezeMs: number; thawMs: number }> {
  const v2 = cg.version === 2;
  const control = join(cg.freezerDir, v2 ? "cgroup.freeze" : "freezer.state");
  const frozen = v2
    ? () => /frozen 1/.test(readFileSync(join(cg.freezerDir, "cgroup.events"), "utf8"))
    : () => readFileSync(control, "utf8").trim() === "FROZEN";
  const t0 = performance.now();
  writeFileSync(control, v2 ? "1" : "FROZEN");
  const deadline = t0 + 5000;
  while (!frozen()) {
    if (performance.now() > deadline) throw new Error(`${cg.freezerDir} did not freeze within 5 s`);
    await new Promise((r) => setImmediate(r));
  }
  const t1 = performance.now();
  writeFileSync(control, v2 ? "0" : "THAWED");
  return { freezeMs: t1 - t0, thawMs: performance.now() - t1 };
}
