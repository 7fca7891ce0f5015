import { connect, type Socket } from "node:net";
import { PlatformError } from "@wrenn/kit";

/** An asynchronous QMP event (e.g. STOP, RESUME, SHUTDOWN, MIGRATION). */
export interface QmpEvent {
  readonly event: string;
  readonly data?: unknown;
}

/** The shape of any line QEMU sends (greeting, reply or event). */
interface QmpMessage {
  readonly QMP?: unknown;
  readonly event?: unknown;
  readonly data?: unknown;
  readonly id?: unknown;
  readonly error?: { readonly class?: string; readonly desc?: string };
  readonly return?: unknown;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * A QMP connection over a unix socket: line-delimited JSON. connect() reads the greeting and
 * negotiates capabilities; execute() matches replies by id; events go to `onEvent`.
 */
export class QmpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  #buffer = "";
  #nextId = 1;
  #closed: Error | undefined;
  /** Called for every event QEMU sends. */
  onEvent: (event: QmpEvent) => void = () => {};

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  /**
   * Connects to `path`, waits for the greeting and runs qmp_capabilities. `signal` aborts the
   * whole handshake; its listener is removed however connect ends (success, error, abort), so
   * a long-lived signal shared by many connects collects no listeners. A QEMU that closes the
   * socket before greeting rejects instead of leaving the caller waiting.
   */
  static async connect(path: string, signal?: AbortSignal): Promise<QmpClient> {
    signal?.throwIfAborted();
    const socket = connect(path);
    const client = new QmpClient(socket);
    const greeting = new Promise<void>((resolve, reject) => {
      client.#greeted = resolve;
      socket.once("error", reject);
      socket.once("close", () => reject(new Error("QMP connection closed before the greeting")));
    });
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal?.reason ?? new Error("aborted"));
    });
    // Whichever loses the race below settles later with nobody awaiting it.
    greeting.catch(() => undefined);
    aborted.catch(() => undefined);
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => client.#onData(chunk));
    socket.on("error", (err) => client.#fail(err));
    socket.on("close", () => client.#fail(new Error("QMP connection closed")));
    try {
      await Promise.race([greeting.then(() => client.execute("qmp_capabilities")), aborted]);
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return client;
  }

  #greeted: () => void = () => {};

  /** Runs `command`; resolves with its `return` value, rejects with QEMU's error description. */
  execute<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = `w${this.#nextId++}`;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.#socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /** Closes the connection; pending commands reject. */
  close(): void {
    this.#socket.destroy();
    this.#fail(new Error("QMP client closed"));
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line) this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let msg: QmpMessage;
    try {
      msg = JSON.parse(line) as QmpMessage;
    } catch {
      return; // QEMU only sends JSON; ignore a torn line rather than crash the agent
    }
    if (msg.QMP !== undefined) {
      this.#greeted();
      return;
    }
    if (typeof msg.event === "string") {
      this.onEvent({ event: msg.event, data: msg.data });
      return;
    }
    const id = typeof msg.id === "string" ? msg.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending || id === undefined) return;
    this.#pending.delete(id);
    if (msg.error) {
      const e = msg.error;
      pending.reject(new PlatformError("internal", "QMP_ERROR", `QMP: ${e.class ?? "Error"}: ${e.desc ?? ""}`));
    } else {
      pending.resolve(msg.return);
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}
