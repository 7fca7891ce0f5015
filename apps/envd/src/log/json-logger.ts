import type { Logger } from "@wrenn/kit";

/** envd's log levels, lowest first; `silent` logs nothing. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** pino's numeric levels, so pino-pretty and log shippers that know pino read envd's lines as they are. */
const LEVEL_NUMBERS = { debug: 20, info: 30, warn: 40, error: 50, silent: Number.POSITIVE_INFINITY } as const;

/** Keys whose values never reach a log line (as pino's `redact` did: tokens sent to /init). */
const REDACTED_KEYS = new Set(["accessToken", "envdAccessToken"]);

/** Options of `createJsonLogger`. */
export interface JsonLoggerOptions {
  /** Lowest level written. @default "info" */
  readonly level?: LogLevel;
  /** Fields on every line (e.g. `{ svc: "envd" }`). @default {} */
  readonly base?: Readonly<Record<string, unknown>>;
  /** Where finished lines go (each ends with "\n"). @default stdout (write errors such as EPIPE ignored) */
  readonly write?: (line: string) => void;
  /** Clock for the `time` field (ms since the epoch). @default Date.now */
  readonly now?: () => number;
}

/**
 * A Logger writing one JSON object per line in pino's shape
 * (`{"level":30,"time":…,"pid":…,…fields,"msg":…}`), in about a hundred
 * lines instead of pino's ~90 KB of bundle, its worker-thread transport
 * machinery and the node:worker_threads/assert modules it loads at start.
 * envd logs little (a line per process start and end), so synchronous
 * writes are fine: process.stdout is synchronous for files, pipes and TTYs
 * on Linux. `Error` values (any depth) become `{type, message, code?, stack}`;
 * `accessToken`/`envdAccessToken` keys (any depth) print as "[Redacted]".
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = LEVEL_NUMBERS[options.level ?? "info"];
  const write = options.write ?? writeToStdout;
  const now = options.now ?? Date.now;
  // The invariant prefix of every line, built once per child logger. A
  // binding named pid (a child process's) replaces envd's own: no duplicate key.
  const prefixOf = (bindings: Readonly<Record<string, unknown>>) => {
    const fields = stringifyFields(bindings);
    const pid = "pid" in bindings ? "" : `,"pid":${process.pid}`;
    return `${pid}${fields === "" ? "" : `,${fields}`}`;
  };
  const make = (bindings: Readonly<Record<string, unknown>>): Logger => {
    const prefix = prefixOf(bindings);
    const emit = (level: number, obj: object, msg: string | undefined) => {
      if (level < threshold) return;
      const fields = stringifyFields(obj);
      const message = msg === undefined ? "" : `,"msg":${JSON.stringify(msg)}`;
      write(`{"level":${level},"time":${now()}${prefix}${fields === "" ? "" : `,${fields}`}${message}}\n`);
    };
    return {
      debug: (obj, msg) => emit(LEVEL_NUMBERS.debug, obj, msg),
      info: (obj, msg) => emit(LEVEL_NUMBERS.info, obj, msg),
      warn: (obj, msg) => emit(LEVEL_NUMBERS.warn, obj, msg),
      error: (obj, msg) => emit(LEVEL_NUMBERS.error, obj, msg),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make(options.base ?? {});
}

let stdoutGuarded = false;

/**
 * Writes a line to stdout. A stdout nobody reads any more (the pipe's reader
 * died: EPIPE) must not crash envd through an unhandled 'error' event; the
 * lines are lost then, the capsule keeps working.
 */
function writeToStdout(line: string): void {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    process.stdout.on("error", () => {});
  }
  process.stdout.write(line);
}

/** `"a":1,"b":"x"` for the object's own enumerable fields (no braces); "" when it has none. */
function stringifyFields(obj: object): string {
  const text = safeStringify(obj);
  return text.length <= 2 ? "" : text.slice(1, -1);
}

/**
 * JSON.stringify that never throws: errors are serialized with their stack,
 * tokens are redacted, bigints become strings and an object met a second
 * time (a cycle, or a shared reference) becomes "[Circular]": a log call
 * must never take a request down.
 */
function safeStringify(obj: object): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(obj, function replacer(this: unknown, key: string, value: unknown) {
      if (REDACTED_KEYS.has(key) && value !== undefined) return "[Redacted]";
      if (typeof value === "bigint") return value.toString();
      if (value instanceof Error) return serializeError(value);
      if (typeof value === "object" && value !== null) {
        if (seen.has(value)) return "[Circular]";
        seen.add(value);
      }
      return value;
    });
  } catch {
    return '{"logError":"fields could not be serialized"}';
  }
}

function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined) out["code"] = code;
  if (err.stack !== undefined) out["stack"] = err.stack;
  if (err.cause !== undefined) out["cause"] = err.cause;
  return out;
}
