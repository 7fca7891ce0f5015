import type { BuildPhase } from "./plan.js";

/** One progress report of an image build. */
export interface BuildProgress {
  readonly phase: BuildPhase | "hash" | "cached" | "done";
  /** Steps finished so far. */
  readonly done: number;
  /** Steps in the plan. */
  readonly total: number;
  /** Overall completion 0–100, weighted by each step's expected cost. */
  readonly percent: number;
  /** What is happening now (a step label, or a probe count). */
  readonly message: string;
}

/** Receives progress reports; must not throw. */
export type ProgressListener = (progress: BuildProgress) => void;

/** Renders one progress line, e.g. `[ 42%] packages  3/41  apt-get install (12/38 .list)`. */
export function formatProgress(p: BuildProgress, width = 100): string {
  const pct = `${Math.floor(p.percent)}`.padStart(3, " ");
  const line = `[${pct}%] ${p.phase.padEnd(9, " ")} ${p.done}/${p.total}  ${p.message}`;
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
