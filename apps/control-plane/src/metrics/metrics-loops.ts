/**
 * Background loops of the team metrics (inventory §5.9, §5.18):
 *
 * - the sampler records one `sandbox_metrics_snapshots` row per team every
 *   10 s and prunes samples older than 60 days;
 * - the usage rollup, hourly, computes every past UTC day that has samples
 *   and is not in `daily_usage` yet — not only yesterday, so a control plane
 *   that was down across midnight catches up (the reference's B.12).
 *
 * Both run once at start, then periodically; a failed pass is logged and the
 * next one runs on schedule.
 */
import type { Logger } from "@wrenn/kit";
import type { MetricsRepo } from "./metrics.repo.js";
import { utcDay } from "./stats.service.js";
import { DEFAULT_SAMPLE_SECONDS, type UsageRepo } from "./usage.repo.js";

/** What the loops need. */
export interface MetricsLoopsDeps {
  readonly metrics: MetricsRepo;
  readonly usage: UsageRepo;
  readonly log: Logger;
  /** Sampler period. It is also the weight of one sample in usage. @default 10 s */
  readonly sampleSeconds?: number;
  /** Between usage rollups. @default 1 h */
  readonly rollupIntervalMs?: number;
  /** Samples older than this are pruned. @default 60 */
  readonly retentionDays?: number;
  /** Clock (tests move it). @default Date.now */
  readonly now?: () => number;
}

/** The sampler and the usage rollup. */
export function createMetricsLoops(deps: MetricsLoopsDeps) {
  const sampleSeconds = deps.sampleSeconds ?? DEFAULT_SAMPLE_SECONDS;
  const now = deps.now ?? Date.now;

  const loops = {
    /** One sampler pass: prune old samples, then sample every team. Returns the samples written. */
    async sampleOnce(): Promise<number> {
      await deps.metrics.pruneSamples(deps.retentionDays ?? 60);
      return deps.metrics.sampleTeams();
    },

    /** One rollup pass: every past day not rolled up yet. Returns the days computed, oldest first. */
    async rollupOnce(): Promise<string[]> {
      const days = await deps.usage.listDaysToRollUp(utcDay(now()));
      for (const day of days) await deps.usage.rollupDay(day, sampleSeconds);
      if (days.length > 0) deps.log.info({ days }, "daily usage rolled up");
      return days;
    },

    /** Starts both loops (each runs at once). Dispose to stop; disposal waits for passes in progress. */
    start(): AsyncDisposable {
      const sampler = every(sampleSeconds * 1000, () => loops.sampleOnce(), "metrics sampling", deps.log);
      const rollup = every(deps.rollupIntervalMs ?? 3600_000, () => loops.rollupOnce(), "usage rollup", deps.log);
      return {
        async [Symbol.asyncDispose]() {
          await Promise.all([sampler(), rollup()]);
        },
      };
    },
  };
  return loops;
}

/** What {@link createMetricsLoops} returns. */
export type MetricsLoops = ReturnType<typeof createMetricsLoops>;

/**
 * Runs `pass` now and then `intervalMs` after each pass ends (never two at
 * once). Returns a stop function that resolves once no pass is running.
 */
function every(intervalMs: number, pass: () => Promise<unknown>, what: string, log: Logger): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const run = () => {
    running = pass().then(
      () => undefined,
      (err: unknown) => log.error({ err }, `${what} failed`),
    );
    void running.then(() => {
      running = undefined;
      if (!stopped) {
        timer = setTimeout(run, intervalMs);
        timer.unref();
      }
    });
  };
  run();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
