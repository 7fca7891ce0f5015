/**
 * Pauses capsules nobody asked to pause: the TTL reaper (a running capsule idle for longer than
 * its `timeoutSec`) and pause-all (the control plane is unreachable). Both remember what they
 * paused, so the next ListSandboxes reports those ids as auto-paused and the control plane marks
 * them paused instead of lost.
 */
import type { Logger } from "@wrenn/kit";
import type { Clock } from "../metrics/clock.js";
import { PeriodicTask } from "./periodic-task.js";
import type { SandboxRecord } from "./sandbox-types.js";

/** What the auto-pauser needs from the SandboxManager. */
export interface AutoPauseTarget {
  /** The records of every capsule now (read-only views; they may change after the call). */
  records(): readonly SandboxRecord[];
  /**
   * Pauses `id` under its lock if `still(record)` holds once the lock is held (it may have been
   * pinged, paused or destroyed meanwhile); resolves true when it paused it.
   */
  pauseIf(id: string, still: (record: SandboxRecord) => boolean, signal?: AbortSignal): Promise<boolean>;
}

/** Options of {@link AutoPauser}. */
export interface AutoPauserOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** TTL reaper period, on `clock`. */
  readonly reaperIntervalMs: number;
}

/** The TTL reaper and pause-all of one SandboxManager, and the ids they paused. */
export class AutoPauser implements AsyncDisposable {
  readonly #target: AutoPauseTarget;
  readonly #o: AutoPauserOptions;
  readonly #reaper: PeriodicTask;
  #paused: string[] = [];

  constructor(target: AutoPauseTarget, options: AutoPauserOptions) {
    this.#target = target;
    this.#o = options;
    this.#reaper = new PeriodicTask(options.clock, options.reaperIntervalMs, () => this.#reap());
  }

  /**
   * Pauses every running capsule, one after the other; a capsule that fails to pause is logged
   * and skipped. Resolves with the ids paused now (also reported by {@link drain}).
   */
  async pauseAll(signal?: AbortSignal): Promise<string[]> {
    const paused: string[] = [];
    for (const r of this.#target.records()) {
      if (r.status !== "running") continue;
      if (await this.#pause(r.id, (cur) => cur.status === "running", "pause-all: pausing a capsule failed", signal)) {
        paused.push(r.id);
      }
    }
    return paused;
  }

  /** Ids auto-paused since the last call; the list is emptied by this read. */
  drain(): string[] {
    const out = this.#paused;
    this.#paused = [];
    return out;
  }

  /** Stops the reaper and waits for a round in progress. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#reaper[Symbol.asyncDispose]();
  }

  async #reap(): Promise<void> {
    const { clock } = this.#o;
    const due = (r: SandboxRecord) =>
      r.status === "running" && r.timeoutSec > 0 && clock.now() >= r.lastActiveAt + r.timeoutSec * 1000;
    for (const r of this.#target.records().filter(due)) await this.#pause(r.id, due, "auto-pause failed");
  }

  /** Pauses one capsule for the reaper or pause-all; a failure is logged, not thrown. */
  async #pause(
    id: string,
    still: (r: SandboxRecord) => boolean,
    failure: string,
    signal?: AbortSignal,
  ): Promise<boolean> {
    try {
      const paused = await this.#target.pauseIf(id, still, signal);
      if (paused) this.#paused.push(id);
      return paused;
    } catch (err) {
      this.#o.log.warn({ sandboxId: id, err: String(err) }, failure);
      return false;
    }
  }
}
