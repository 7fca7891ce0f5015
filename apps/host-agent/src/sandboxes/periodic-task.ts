import type { Clock, TimerHandle } from "../metrics/clock.js";

/**
 * Runs `task` every `intervalMs` on `clock`, chained (the next run is armed only after the
 * previous one settled, so slow runs never overlap). Its timers are unref'd: a periodic
 * housekeeping task alone must never keep the process alive.
 */
export class PeriodicTask implements AsyncDisposable {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #task: () => Promise<void>;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(clock: Clock, intervalMs: number, task: () => Promise<void>) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#task = task;
    this.#arm();
  }

  #arm(): void {
    if (this.#stopped) return;
    const t = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#task()
        .catch(() => undefined)
        .finally(() => {
          this.#running = undefined;
          this.#arm();
        });
    }, this.#intervalMs);
    if (typeof t === "object" && t !== null && "unref" in t && typeof t.unref === "function") t.unref();
    this.#timer = t;
  }

  /** Stops the timer and waits for a run in progress. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
