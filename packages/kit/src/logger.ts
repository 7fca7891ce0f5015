/** The logging interface code depends on; pino satisfies it, tests use MemoryLogger. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** One recorded log entry. */
export interface LogEntry {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly msg: string | undefined;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A Logger that records entries in memory, for assertions in tests. */
export class MemoryLogger implements Logger {
  readonly entries: LogEntry[];
  readonly #bindings: Record<string, unknown>;

  constructor(bindings: Record<string, unknown> = {}, sink: LogEntry[] = []) {
    this.#bindings = bindings;
    this.entries = sink;
  }

  debug(obj: object, msg?: string): void {
    this.#push("debug", obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.#push("info", obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.#push("warn", obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.#push("error", obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new MemoryLogger({ ...this.#bindings, ...bindings }, this.entries);
  }

  #push(level: LogEntry["level"], obj: object, msg: string | undefined): void {
    this.entries.push({ level, msg, fields: { ...this.#bindings, ...obj } });
  }
}

/** A Logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
