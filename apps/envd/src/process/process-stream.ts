import { Code, ConnectError } from "@connectrpc/connect";
import type { ProcessEvent } from "@wrenn/protocol/envd/process";
import type { Subscription } from "./output-fanout.js";
import { keepaliveEvent } from "./process-events.js";

/** What a Start or Connect stream is made of. */
export interface EventPumpOptions {
  /** The first event (the `start{pid}` event). */
  readonly first: ProcessEvent;
  /** The process output for this stream; closed when the stream ends for any reason. */
  readonly output: Subscription<ProcessEvent>;
  /** The RPC's signal: when the client goes away only this stream stops, never the process. */
  readonly signal: AbortSignal;
  /** Send a keepalive after this long without any event. */
  readonly keepaliveMs: number;
}

/**
 * The body of a Start or Connect server stream: the start event, the output,
 * then the end event, with keepalives while otherwise silent. Ends early
 * (without touching the process) when the client disconnects, and fails
 * with ResourceExhausted if the listener was dropped for falling behind.
 */
export async function* pumpEvents(opts: EventPumpOptions): AsyncGenerator<{ event: ProcessEvent }> {
  const { output, signal } = opts;
  // The generator may be parked waiting for output; ending the queue is what wakes it up.
  const onAbort = () => output.close();
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) output.close();
  const keepalive = setTimeout(() => {
    // Anything already queued means the client is behind, not idle: just wait another interval.
    if (output.idle) output.inject(keepaliveEvent());
    else keepalive.refresh();
  }, opts.keepaliveMs);
  try {
    yield { event: opts.first };
    keepalive.refresh();
    let sawEnd = false;
    for await (const event of output) {
      yield { event };
      keepalive.refresh();
      sawEnd = event.event.case === "end";
    }
    // Stopped early by the deadline (or a disconnect): say why rather than
    // ending cleanly without an end event, which clients read as "no result".
    if (!sawEnd && signal.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
  } finally {
    clearTimeout(keepalive);
    signal.removeEventListener("abort", onAbort);
    output.close();
  }
}
