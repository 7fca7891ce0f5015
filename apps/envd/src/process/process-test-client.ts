import assert from "node:assert/strict";
import { TextDecoder } from "node:util";
import { type Client, type Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Process, type ProcessEvent_EndEvent, type StartResponse } from "@wrenn/protocol/envd/process";

/** Options for a test client of the Process service. @internal */
export interface ProcessClientOptions {
  /** Protobuf binary instead of JSON (the e2b SDK uses JSON). @default false */
  readonly binary?: boolean;
  /** Basic-auth user; undefined sends no Authorization header (envd's default user). */
  readonly user?: string;
}

/** A Process client over real HTTP/1.1 to a test envd. @internal */
export function processClient(baseUrl: string, opts: ProcessClientOptions = {}): Client<typeof Process> {
  const user = opts.user;
  return createClient(
    Process,
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: opts.binary ?? false,
      // Like the e2b SDK (connect-web): no gzip, which would hide volume (zeros compress 1000:1).
      acceptCompression: [],
      interceptors:
        user === undefined
          ? []
          : [
              (next) => (req) => {
                req.header.set("authorization", `Basic ${Buffer.from(`${user}:`).toString("base64")}`);
                return next(req);
              },
            ],
    }),
  );
}

/** Everything a finished Start or Connect stream delivered. @internal */
export interface Collected {
  readonly pid: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly pty: string;
  readonly end: ProcessEvent_EndEvent | undefined;
  readonly keepalives: number;
  /** Event kinds in arrival order, consecutive repeats collapsed. */
  readonly order: readonly string[];
}

type OutputKey = "stdout" | "stderr" | "pty";

/**
 * Consumes a Start/Connect stream in the background so a test can wait for
 * output while the process keeps running. @internal
 */
export class StreamWatcher {
  /** Resolves with the pid from the start event (rejects if the stream fails first). */
  readonly pid: Promise<number>;
  /** Resolves when the stream ends (rejects with its error). */
  readonly result: Promise<Collected>;
  readonly #text: Record<OutputKey, string> = { stdout: "", stderr: "", pty: "" };
  readonly #decoders: Record<OutputKey, TextDecoder> = {
    stdout: new TextDecoder(),
    stderr: new TextDecoder(),
    pty: new TextDecoder(),
  };
  #waiters: Array<() => void> = [];

  constructor(stream: AsyncIterable<Pick<StartResponse, "event">>) {
    let resolvePid: (pid: number) => void = () => {};
    let rejectPid: (err: unknown) => void = () => {};
    this.pid = new Promise((resolve, reject) => {
      resolvePid = resolve;
      rejectPid = reject;
    });
    this.pid.catch(() => {});
    this.result = this.#consume(stream, resolvePid).catch((err: unknown) => {
      rejectPid(err);
      throw err;
    });
    this.result.catch(() => {});
  }

  /** Output text so far. */
  text(key: OutputKey): string {
    return this.#text[key];
  }

  /** Resolves once `re` matches the accumulated output of `key`. */
  async waitFor(re: RegExp, key: OutputKey = "stdout", timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.#text[key])) {
      if (Date.now() > deadline) throw new Error(`no ${re} in ${key}: ${JSON.stringify(this.#text[key].slice(-300))}`);
      const ended = await Promise.race([
        new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(false))),
        this.result.then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)),
      ]);
      if (ended && !re.test(this.#text[key])) throw new Error(`stream ended without ${re} in ${key}`);
    }
  }

  async #consume(
    stream: AsyncIterable<Pick<StartResponse, "event">>,
    onPid: (pid: number) => void,
  ): Promise<Collected> {
    let pid: number | undefined;
    let end: ProcessEvent_EndEvent | undefined;
    let keepalives = 0;
    const order: string[] = [];
    const note = (kind: string) => {
      if (order[order.length - 1] !== kind) order.push(kind);
    };
    for await (const res of stream) {
      const ev = res.event?.event;
      switch (ev?.case) {
        case "start":
          pid = ev.value.pid;
          onPid(pid);
          note("start");
          break;
        case "data": {
          const out = ev.value.output;
          if (!out.case) break;
          this.#text[out.case] += this.#decoders[out.case].decode(out.value, { stream: true });
          note(out.case);
          const waiters = this.#waiters;
          this.#waiters = [];
          for (const w of waiters) w();
          break;
        }
        case "end":
          end = ev.value;
          note("end");
          break;
        case "keepalive":
          keepalives++;
          note("keepalive");
          break;
      }
    }
    return { pid, ...this.#text, end, keepalives, order };
  }
}

/** Reads a whole Start/Connect stream. @internal */
export function collect(stream: AsyncIterable<Pick<StartResponse, "event">>): Promise<Collected> {
  return new StreamWatcher(stream).result;
}

/** UTF-8 bytes of a string, for stdin/pty input. @internal */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** An `assert.rejects` predicate: a ConnectError with `code` (and a message matching `message`). @internal */
export function assertCode(code: Code, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, `expected ConnectError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  };
}
