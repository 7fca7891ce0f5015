/**
 * Where a create, pause or resume spends its time: the steps the SandboxManager reports
 * (SandboxManagerOptions.onStep) and the namespace runtime's create steps
 * (NamespaceRuntimeOptions.onPhase), collected while a measurement runs and printed as
 * indented rows (median and p99) under the operation they belong to.
 */
import type { NamespaceCreatePhase } from "../../apps/host-agent/src/runtime/namespace/namespace-runtime.js";
import type { LifecycleOp } from "../../apps/host-agent/src/sandboxes/step-timer.js";
import { fmtSummary } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import type { Row } from "../lib/table.js";

/** Who reported a step: the manager (per operation) or the namespace runtime (create). */
export type StepSource = LifecycleOp | "runtime";

/** Step samples, recorded only while `on` (so warm-ups and floors stay out). */
export class StepLog {
  on = false;
  /**
   * Which kind of operation the samples belong to now (e.g. `warm` and `cold` creates measured
   * interleaved): recorded and read under it, so the two breakdowns never mix. @default ""
   */
  variant = "";
  readonly #samples = new Map<string, number[]>();

  /** Records one step's duration (ignored while off). */
  record(source: StepSource, step: string, ms: number): void {
    if (!this.on) return;
    const key = `${this.variant}|${source}/${step}`;
    const list = this.#samples.get(key) ?? [];
    list.push(ms);
    this.#samples.set(key, list);
  }

  /** The samples of one step under the current variant (empty when it never ran). */
  samples(source: StepSource, step: string): readonly number[] {
    return this.#samples.get(`${this.variant}|${source}/${step}`) ?? [];
  }

  /** Forgets every sample. */
  clear(): void {
    this.#samples.clear();
  }

  /** One indented row per step that has samples, in the order of `steps`, labelled by it. */
  rows(source: StepSource, steps: readonly (readonly [step: string, label: string])[], indent = "  "): Row[] {
    const rows: Row[] = [];
    for (const [step, label] of steps) {
      const s = this.samples(source, step);
      if (s.length > 0) rows.push({ metric: `${indent}${label}`, value: fmtSummary(summarize([...s]), "ms", 2) });
    }
    return rows;
  }
}

/** The namespace runtime's create steps, in order; the first three run at once. */
export const RUNTIME_CREATE_STEPS: readonly (readonly [NamespaceCreatePhase, string])[] = [
  ["prepare", "overlay + identity files ∥ cgroup (wall)"],
  ["overlay", "  overlay: mkdir + mount"],
  ["identity", "  identity files + launcher script"],
  ["cgroup", "  cgroup create + limits"],
  ["launch", "launcher spawn"],
  ["ready", "launcher → envd answers /health"],
];

/** The manager's create steps, in order (the runtime's are shown inside `runtime create`). */
export const MANAGER_CREATE_STEPS: readonly (readonly [string, string])[] = [
  ["state dir", "state dir"],
  ["warm pool claim", "warm pool claim (adopt ∥ egress ∥ metadata)"],
  ["adopt", "  adopt: limits, cgroup rename, hostname, /dev/shm + /run size"],
  ["network slot", "network slot (pooled)"],
  ["pause metadata", "pause metadata write (∥ runtime create or adopt)"],
  ["runtime create", "runtime create"],
  ["envd /init", "envd /init"],
];

/** The manager's pause steps, in order. */
export const PAUSE_STEPS: readonly (readonly [string, string])[] = [
  ["metrics untrack", "metrics untrack"],
  ["envd /snapshot/prepare", "envd /snapshot/prepare (runtimes that restore; not the freezer)"],
  ["freezer", "freezer (runtime pause)"],
];

/** The manager's resume steps, in order. */
export const RESUME_STEPS: readonly (readonly [string, string])[] = [
  ["thaw", "thaw (runtime resume)"],
  ["envd /init", "envd /init (after a restore or changed settings; /health only if unreachable)"],
  ["sampling restart", "metrics sampling restart"],
];
