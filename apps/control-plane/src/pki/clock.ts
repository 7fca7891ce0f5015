/**
 * The time source of timers in this folder, so tests move time by hand
 * (see `testing/manual-clock.ts`) instead of sleeping for hours.
 */

/** An opaque timer handle, only ever handed back to the clock that made it. */
export type TimerHandle = unknown;

/** Wall clock plus one-shot timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Its timers are unref'd: a pending renewal hours away must
 * not keep a process alive that has nothing else to do.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
