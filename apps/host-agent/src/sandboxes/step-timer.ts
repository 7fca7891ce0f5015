/**
 * Timing of the steps of a capsule's create, pause and resume, for benchmarks
 * (`bench/host-agent` prints them as a breakdown). Without a listener nothing is measured.
 */

/** The operation a step belongs to. */
export type LifecycleOp = "create" | "pause" | "resume";

/**
 * Receives the duration (ms, wall clock) of each step that succeeded. Steps run at once are
 * each timed on their own, so their sum can exceed the operation's time.
 */
export type LifecycleStepListener = (op: LifecycleOp, step: string, ms: number) => void;

/** Times the steps of one operation for a listener. */
export class StepTimer {
  constructor(
    private readonly listener: LifecycleStepListener | undefined,
    private readonly op: LifecycleOp,
  ) {}

  /** Runs `fn` and reports how long it took (only when it succeeds). */
  async time<T>(step: string, fn: () => Promise<T>): Promise<T> {
    if (!this.listener) return fn();
    const t0 = performance.now();
    const out = await fn();
    this.listener(this.op, step, performance.now() - t0);
    return out;
  }

  /** Runs the synchronous `fn` and reports how long it took (only when it succeeds). */
  timeSync<T>(step: string, fn: () => T): T {
    if (!this.listener) return fn();
    const t0 = performance.now();
    const out = fn();
    this.listener(this.op, step, performance.now() - t0);
    return out;
  }
}
