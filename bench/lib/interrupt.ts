import { setMaxListeners } from "node:events";

/** A trap for Ctrl-C / SIGTERM that turns them into an abort, so a benchmark can clean up. */
export interface Interrupt extends Disposable {
  /** Aborts (reason: an Error "interrupted") on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
}

/**
 * Installs SIGINT/SIGTERM handlers: the first signal aborts `signal` and prints that
 * cleanup is running; further ones repeat the notice; the `forceAfter`-th (default 3)
 * exits at once with status 130, leaving whatever is still set up (the next run's start-up
 * cleanup removes it). Dispose removes the handlers.
 */
export function trapInterrupts(
  forceAfter = 3,
  write: (text: string) => void = (t) => process.stderr.write(t),
): Interrupt {
  const ac = new AbortController();
  // One run-wide signal is handed to every call, many at once (10 concurrent creates, a
  // fleet of idle capsules): Node's default warning at 11 listeners is noise here.
  setMaxListeners(10_000, ac.signal);
  let count = 0;
  const onSignal = (name: NodeJS.Signals) => {
    count++;
    if (count >= forceAfter) {
      write(`\n${name} again: leaving without cleanup (the next run removes what is left)\n`);
      process.exit(130);
    }
    write(`\n${name}: stopping and cleaning up (signal ${forceAfter - count} more time(s) to leave at once)\n`);
    if (!ac.signal.aborted) ac.abort(new Error(`interrupted by ${name}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: ac.signal,
    [Symbol.dispose]() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
