import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import type { ChildIo, ChildSink, OutputName, PtySize, SpawnSpec } from "./child-io.js";
import type { ChildExit } from "./exit-status.js";
import { setOomScoreAdj } from "./fd-hygiene.js";

/** Largest data event for pipe output (the reference envd's read size). */
export const PIPE_CHUNK_BYTES = 32 * 1024;

/**
 * After the child exits, a grandchild that inherited stdout (`cmd &`) can
 * keep the pipe open forever. The child's own output is already buffered in
 * the kernel when it exits, so envd keeps reading until EOF, but gives up
 * once the pipes have been silent this long (while not paused), or once this
 * many bytes arrived after the exit — more than the kernel buffers of a
 * stdio pipe (libuv uses socketpairs; a pipe holds at most 1 MiB), so only a
 * chatty grandchild is cut off. Go's envd ends at exit and can lose output.
 */
const EXIT_IDLE_MS = 50;
const POST_EXIT_BYTE_LIMIT = 2 * 1024 * 1024;

/** Thrown for input to a process whose stdin was disabled or closed. */
class StdinClosedError extends Error {
  override name = "StdinClosedError";
}

/**
 * Spawns a child on pipes, directly (no shell) so that exec stays one fork.
 * `leaky` lists envd's descriptors without close-on-exec (see fd-hygiene);
 * the child gets /dev/null in their place.
 * Output handlers are attached before this returns, so nothing is lost; the
 * promise rejects with the spawn error (EACCES, ENOEXEC…) if exec fails.
 *
 * Credentials: uid and gid are set; libuv clears the supplementary groups
 * when it switches user (setgroups(0)), and Node has no way to set them, so
 * pipe children run with the primary group only.
 */
export function spawnPipeChild(spec: SpawnSpec, sink: ChildSink, leaky: readonly number[]): Promise<ChildIo> {
  const stdio: Array<"pipe" | "ignore" | number> = [spec.stdin ? "pipe" : "ignore", "pipe", "pipe"];
  let devNull: number | undefined;
  if (leaky.length > 0) {
    // libuv dup2()s /dev/null over each leaky descriptor in the child, which
    // closes the inherited one there; envd's own copy is untouched.
    devNull = openSync("/dev/null", "r+");
    const last = leaky[leaky.length - 1] ?? 2;
    for (let fd = 3; fd <= last; fd++) stdio.push(leaky.includes(fd) ? devNull : "ignore");
  }
  let child: ChildProcess;
  try {
    child = spawn(spec.file, [...spec.args], {
      argv0: spec.argv0,
      cwd: spec.cwd,
      env: { ...spec.env },
      uid: spec.uid,
      gid: spec.gid,
      stdio,
    });
  } finally {
    if (devNull !== undefined) closeSync(devNull);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // Node reports the failure on the next tick.
    return new Promise((_, reject) => child.once("error", reject));
  }
  setOomScoreAdj(pid);
  return Promise.resolve(new PipeChild(child, pid, sink));
}

class PipeChild implements ChildIo {
  readonly pid: number;
  readonly hasPty = false;
  readonly #child: ChildProcess;
  readonly #sink: ChildSink;
  readonly #outputs: Readable[];
  readonly #stdin: Writable | null;
  #openOutputs: number;
  #paused = false;
  #exit: ChildExit | undefined;
  #finished = false;
  #lastDataAt = 0;
  #bytesAfterExit = 0;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(child: ChildProcess, pid: number, sink: ChildSink) {
    this.pid = pid;
    this.#child = child;
    this.#sink = sink;
    this.#stdin = child.stdin;
    // EPIPE when the child exits without reading: reported through write()'s callback.
    this.#stdin?.on("error", () => {});
    const outputs: Array<[OutputName, Readable | null]> = [
      ["stdout", child.stdout],
      ["stderr", child.stderr],
    ];
    this.#outputs = [];
    for (const [name, stream] of outputs) {
      if (!stream) continue;
      this.#outputs.push(stream);
      stream.on("data", (chunk: Buffer) => this.#onData(name, chunk));
      stream.on("error", () => stream.destroy());
      stream.once("close", () => {
        this.#openOutputs--;
        this.#maybeFinish();
      });
    }
    this.#openOutputs = this.#outputs.length;
    child.on("error", () => {}); // kill() failures; the exit is still reported
    child.once("exit", (code, signal) => {
      this.#exit = { code, signal };
      this.#lastDataAt = Date.now();
      this.#maybeFinish();
      if (!this.#finished) this.#armIdleTimer();
    });
  }

  get stdinOpen(): boolean {
    const stdin = this.#stdin;
    return stdin !== null && !stdin.writableEnded && !stdin.destroyed;
  }

  pause(): void {
    this.#paused = true;
    for (const stream of this.#outputs) stream.pause();
  }

  resume(): void {
    this.#paused = false;
    for (const stream of this.#outputs) stream.resume();
  }

  write(bytes: Uint8Array): Promise<void> {
    const stdin = this.#stdin;
    if (!stdin || !this.stdinOpen) return Promise.reject(new StdinClosedError("stdin is closed"));
    // Resolving only once the bytes reach the kernel gives callers back-pressure:
    // envd never queues more than one request's worth of input per writer.
    return new Promise((resolve, reject) => {
      stdin.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  closeStdin(): void {
    if (this.stdinOpen) this.#stdin?.end();
  }

  resize(_size: PtySize): void {
    throw new Error("process has no PTY");
  }

  kill(signal: NodeJS.Signals): boolean {
    return this.#child.kill(signal);
  }

  #onData(name: OutputName, chunk: Buffer): void {
    this.#lastDataAt = Date.now();
    for (let offset = 0; offset < chunk.length; offset += PIPE_CHUNK_BYTES) {
      this.#sink.data(name, chunk.subarray(offset, offset + PIPE_CHUNK_BYTES));
    }
    if (this.#exit) {
      this.#bytesAfterExit += chunk.length;
      if (this.#bytesAfterExit > POST_EXIT_BYTE_LIMIT) this.#abandonOutputs();
    }
  }

  #armIdleTimer(): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#finished) return;
      const seen = this.#lastDataAt;
      if (this.#paused || Date.now() - seen < EXIT_IDLE_MS) {
        this.#armIdleTimer();
        return;
      }
      // Timers run before I/O polling in a loop iteration: give pending reads
      // one poll phase before deciding the pipes are really silent.
      setImmediate(() => {
        if (this.#finished) return;
        if (this.#lastDataAt === seen && !this.#paused) this.#abandonOutputs();
        else this.#armIdleTimer();
      });
    }, EXIT_IDLE_MS);
  }

  #abandonOutputs(): void {
    for (const stream of this.#outputs) stream.destroy();
  }

  #maybeFinish(): void {
    const exit = this.#exit;
    if (this.#finished || !exit || this.#openOutputs > 0) return;
    this.#finished = true;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#stdin?.destroy();
    this.#sink.exit(exit);
  }
}
