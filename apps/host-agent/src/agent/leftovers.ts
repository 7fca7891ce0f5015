/**
 * Start-up cleanup: everything a previous agent run (crashed or killed) left on the host,
 * before this run creates anything. Network slots (netns, veth, nft table of the prefix) are
 * removed by the network provider's own start().
 */
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@wrenn/kit";
import type { CommandRunner } from "../exec/command-runner.js";
import type { PidFiles } from "../exec/pid-files.js";
import { removeTreeSafely } from "../images/safe-remove.js";
import type { NamespaceRuntime } from "../runtime/namespace/namespace-runtime.js";
import type { TemplateStore } from "../templates/template-store.js";

/** What the cleanup removed. */
export interface LeftoverReport {
  /** Recorded QEMU / launcher processes that were still running and got killed. */
  readonly killedProcesses: number;
  /** Capsule directories removed from the state root. */
  readonly sandboxDirs: readonly string[];
  /** Half-written or half-deleted template directories removed. */
  readonly templateDirs: readonly string[];
}

/** What the cleanup works on. */
export interface LeftoverTargets {
  readonly pids: PidFiles;
  /** Kills the tasks of every capsule cgroup under the prefix, removes them, unmounts overlays. */
  readonly namespace: NamespaceRuntime;
  /** Capsule state root (`$WRENN_DIR/sandboxes`). */
  readonly stateRoot: string;
  readonly templates: TemplateStore;
  readonly runner: CommandRunner;
  readonly log: Logger;
}

/**
 * Order matters: processes die first (recorded PIDs, then every task of the prefix's capsule
 * cgroups), then overlays are unmounted, then directories go (never through a mount).
 * Capsules do not survive an agent restart: the agent's memory was their only record.
 */
export async function cleanupLeftovers(t: LeftoverTargets): Promise<LeftoverReport> {
  const killed = (await t.pids.killLeftovers()).filter((p) => p.killed);
  for (const p of killed) t.log.warn({ pid: p.pid, label: p.label }, "killed a process a previous agent left");
  if ((await t.namespace.availability()).available) await t.namespace.cleanupLeftovers(t.stateRoot);
  await mkdir(t.stateRoot, { recursive: true, mode: 0o700 });
  const sandboxDirs: string[] = [];
  for (const name of await readdir(t.stateRoot)) {
    await removeTreeSafely(join(t.stateRoot, name), t.runner);
    sandboxDirs.push(name);
  }
  const templateDirs = await t.templates.cleanupLeftovers();
  if (sandboxDirs.length > 0 || templateDirs.length > 0) {
    t.log.warn({ sandboxes: sandboxDirs, templates: templateDirs }, "removed what a previous agent left");
  }
  return { killedProcesses: killed.length, sandboxDirs, templateDirs };
}
