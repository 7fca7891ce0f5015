import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type CommandRunner, runChecked } from "../exec/command-runner.js";
import type { FileCountProbe, PlanStep } from "./plan.js";
import type { ProgressListener } from "./progress.js";

/** How to apply a plan. */
export interface ApplyOptions {
  readonly runner: CommandRunner;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** How often long steps with probes are sampled. @default 400 */
  readonly probeIntervalMs?: number;
}

function flatten(steps: readonly PlanStep[]): PlanStep[] {
  return steps.flatMap((s) => (s.kind === "with-mount" ? [s, ...flatten(s.steps)] : [s]));
}

async function countFiles(dir: string, suffix: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith(suffix)).length;
  } catch {
    return 0; // the folder appears only part-way through the step
  }
}

/** Fraction 0–1 of a step done, from its probes' counts relative to the counts at step start. */
export function probeFraction(
  probes: readonly FileCountProbe[],
  baseline: readonly number[],
  now: readonly number[],
): number {
  let f = 0;
  probes.forEach((p, i) => {
    const grown = Math.max(0, (now[i] ?? 0) - (baseline[i] ?? 0));
    f += p.share * Math.min(1, grown / Math.max(1, p.expected));
  });
  return Math.min(0.99, f);
}

/**
 * Runs a plan step by step through `runner`. Every `with-mount` is unmounted
 * again whatever happens inside it; the first failure stops the plan.
 */
export async function applyPlan(steps: readonly PlanStep[], opts: ApplyOptions): Promise<void> {
  const all = flatten(steps);
  const totalWeight = all.reduce((n, s) => n + s.weight, 0) || 1;
  let doneSteps = 0;
  let doneWeight = 0;
  const report = (s: PlanStep, fraction: number, message: string) =>
    opts.onProgress?.({
      phase: s.phase,
      done: doneSteps,
      total: all.length,
      percent: (100 * (doneWeight + s.weight * fraction)) / totalWeight,
      message,
    });
  const finish = (s: PlanStep) => {
    doneSteps += 1;
    doneWeight += s.weight;
    report(s, 0, s.label);
  };

  const runOne = async (s: PlanStep): Promise<void> => {
    opts.signal?.throwIfAborted();
    report(s, 0, s.label);
    if (s.kind === "write") {
      await mkdir(dirname(s.path), { recursive: true });
      await writeFile(s.path, s.content);
      await chmod(s.path, s.mode); // writeFile's mode is filtered by umask
      return finish(s);
    }
    if (s.kind === "with-mount") {
      await runChecked(opts.runner, s.mount, { signal: opts.signal });
      finish(s);
      try {
        for (const inner of s.steps) await runOne(inner);
      } finally {
        // Not aborted by the caller's signal: a mount must never outlive the build.
        await runChecked(opts.runner, s.unmount);
      }
      return;
    }
    if (s.onlyIfExists !== undefined && !existsSync(s.onlyIfExists)) return finish(s);
    const probes = s.probes ?? [];
    const baseline = await Promise.all(probes.map((p) => countFiles(p.dir, p.suffix)));
    let running = true; // a sample still in flight when the step ends must not report afterwards
    const timer =
      probes.length === 0
        ? undefined
        : setInterval(() => {
            void Promise.all(probes.map((p) => countFiles(p.dir, p.suffix))).then((now) => {
              if (!running) return;
              const counts = probes.map((p, i) => `${(now[i] ?? 0) - (baseline[i] ?? 0)}/${p.expected} ${p.suffix}`);
              report(s, probeFraction(probes, baseline, now), `${s.label} (${counts.join(", ")})`);
            });
          }, opts.probeIntervalMs ?? 400);
    try {
      await runChecked(opts.runner, s.argv, { signal: opts.signal, timeoutMs: s.timeoutMs });
    } finally {
      running = false;
      if (timer) clearInterval(timer);
    }
    finish(s);
  };

  for (const s of steps) await runOne(s);
}
