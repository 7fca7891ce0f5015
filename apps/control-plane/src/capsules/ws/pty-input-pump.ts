/** One instruction from a terminal's WebSocket for the capsule's PTY. */
export type PtyCommand =
  | { readonly type: "input"; readonly data: Uint8Array }
  | { readonly type: "resize"; readonly cols: number; readonly rows: number }
  | { readonly type: "kill" };

/** Delivers commands to the host agent (unary RPCs). */
export interface PtyCommandSink {
  input(data: Uint8Array, signal: AbortSignal): Promise<void>;
  resize(cols: number, rows: number, signal: AbortSignal): Promise<void>;
  kill(signal: AbortSignal): Promise<void>;
}

/** Options of {@link PtyInputPump}. */
export interface PtyInputPumpOptions {
  readonly sink: PtyCommandSink;
  /** Called with `true` when the queue is full (stop reading the socket) and `false` when it drained. */
  readonly onBackpressure: (paused: boolean) => void;
  /** Called when a command could not be delivered (the session goes on). */
  readonly onError: (err: unknown) => void;
  /** Pause reading above this many queued bytes. @default 256 KiB */
  readonly highWaterBytes?: number;
  /** Per-RPC deadline. @default 5 s */
  readonly rpcTimeoutMs?: number;
  /** Largest single input RPC (bigger runs are split). @default 64 KiB */
  readonly maxBatchBytes?: number;
}

/**
 * Decouples reading a terminal's WebSocket from the RPCs that deliver its
 * input (seed fix 18): the socket reader only enqueues; one sender delivers
 * in order, joining consecutive `input` commands into one RPC so fast typing
 * or a paste costs a few round trips, not one per keystroke. Unlike the
 * reference, nothing is dropped: when the queue grows past the high-water
 * mark the reader is paused (TCP back-pressure to the browser) instead of
 * discarding keystrokes, and `resize`/`kill` met while joining inputs keep
 * their place in the order.
 */
export class PtyInputPump {
  readonly #options: PtyInputPumpOptions;
  readonly #queue: PtyCommand[] = [];
  readonly #abort = new AbortController();
  #queuedBytes = 0;
  #paused = false;
  #running = false;
  #idle: Promise<void> = Promise.resolve();

  constructor(options: PtyInputPumpOptions) {
    this.#options = options;
  }

  /** Queues a command; delivery starts at once unless a sender is running. */
  push(command: PtyCommand): void {
    if (this.#abort.signal.aborted) return;
    this.#queue.push(command);
    if (command.type === "input") this.#queuedBytes += command.data.length;
    if (!this.#paused && this.#queuedBytes > (this.#options.highWaterBytes ?? 256 * 1024)) {
      this.#paused = true;
      this.#options.onBackpressure(true);
    }
    if (!this.#running) this.#idle = this.#drain();
  }

  /** Resolves when everything queued so far has been delivered (or failed). */
  async flushed(): Promise<void> {
    while (this.#running) await this.#idle;
  }

  /** Stops: queued commands are discarded, an RPC in flight is aborted. */
  close(): void {
    this.#abort.abort();
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      for (let next = this.#take(); next !== undefined; next = this.#take()) {
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.rpcTimeoutMs ?? 5000)]);
        try {
          if (next.type === "input") await this.#options.sink.input(next.data, signal);
          else if (next.type === "resize") await this.#options.sink.resize(next.cols, next.rows, signal);
          else await this.#options.sink.kill(signal);
        } catch (err) {
          if (this.#abort.signal.aborted) return;
          this.#options.onError(err);
        }
        if (this.#paused && this.#queuedBytes <= (this.#options.highWaterBytes ?? 256 * 1024) / 4) {
          this.#paused = false;
          this.#options.onBackpressure(false);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** The next command to send; consecutive inputs at the head are joined. */
  #take(): PtyCommand | undefined {
    const head = this.#queue.shift();
    if (head === undefined || head.type !== "input") return head;
    const max = this.#options.maxBatchBytes ?? 64 * 1024;
    const parts = [head.data];
    let size = head.data.length;
    while (this.#queue[0]?.type === "input" && size + this.#queue[0].data.length <= max) {
      const more = this.#queue.shift() as { type: "input"; data: Uint8Array };
      parts.push(more.data);
      size += more.data.length;
    }
    this.#queuedBytes -= size;
    return { type: "input", data: parts.length === 1 ? head.data : Buffer.concat(parts) };
  }
}
