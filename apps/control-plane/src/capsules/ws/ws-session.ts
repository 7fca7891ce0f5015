import type { TSchema } from "@wrenn/api-schema";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { WebSocket } from "ws";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = addFormats(new Ajv({ strict: false, allErrors: false }));
const validators = new WeakMap<TSchema, ValidateFunction>();

/** A validated message from the client, or why it was refused. */
export type ClientMessage<T> = { ok: true; message: T } | { ok: false; error: string };

/** Largest amount of queued outgoing data before a sender waits (back-pressure to the agent stream). */
const HIGH_WATER_BYTES = 1024 * 1024;

/**
 * One WebSocket with JSON messages both ways: incoming text is parsed and
 * validated against the route's client schema; outgoing messages wait while
 * the socket's send buffer is full, so a slow browser slows the capsule's
 * output stream instead of growing memory.
 */
export class WsSession<TClient> {
  readonly socket: WebSocket;
  readonly #validate: ValidateFunction;
  readonly #queue: ClientMessage<TClient>[] = [];
  #waiter: ((m: ClientMessage<TClient> | undefined) => void) | undefined;
  #closed = false;
  /** Aborted when the socket closes. */
  readonly closed: AbortSignal;

  constructor(socket: WebSocket, clientSchema: TSchema) {
    this.socket = socket;
    let validate = validators.get(clientSchema);
    if (validate === undefined) {
      validate = ajv.compile(clientSchema);
      validators.set(clientSchema, validate);
    }
    this.#validate = validate;
    const closed = new AbortController();
    this.closed = closed.signal;
    socket.on("message", (data, isBinary) => this.#receive(isBinary ? undefined : String(data)));
    socket.on("close", () => {
      this.#closed = true;
      closed.abort();
      this.#waiter?.(undefined);
      this.#waiter = undefined;
    });
    socket.on("error", () => socket.terminate());
  }

  /**
   * The next client message, `undefined` once the socket closed, or a timeout
   * error message after `timeoutMs` (used for the first-message auth).
   */
  next(timeoutMs?: number): Promise<ClientMessage<TClient> | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.#waiter = undefined;
              resolve({ ok: false, error: "timed out waiting for a message" });
            }, timeoutMs);
      this.#waiter = (m) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(m);
      };
    });
  }

  /** Sends one JSON message; waits while the socket's buffer is over the high-water mark. */
  async send(message: unknown): Promise<void> {
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) return;
    await new Promise<void>((resolve) => {
      this.socket.send(JSON.stringify(message), () => resolve());
      if (this.socket.bufferedAmount < HIGH_WATER_BYTES) resolve();
    });
  }

  /** Closes the socket (1000 normal, 1008 policy violation, 1011 server error). */
  close(code = 1000, reason = ""): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason.slice(0, 120));
    }
  }

  #receive(text: string | undefined): void {
    let message: ClientMessage<TClient>;
    if (text === undefined) message = { ok: false, error: "binary messages are not accepted" };
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      message = this.#validate(parsed)
        ? { ok: true, message: parsed as TClient }
        : { ok: false, error: `invalid message: ${ajv.errorsText(this.#validate.errors, { dataVar: "message" })}` };
    }
    if (this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w(message);
    } else this.#queue.push(message);
  }
}
