import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@wrenn/kit";
import type { ProcessConfig, ProcessEvent } from "@wrenn/protocol/envd/process";
import { errnoOf } from "../errors.js";
import type { ChildIo, ChildSink, PtySize, SpawnSpec } from "./child-io.js";
import { type ChildExit, type EndStatus, endStatus } from "./exit-status.js";
import type { InheritableFds } from "./fd-hygiene.js";
import { type FanoutOptions, OutputFanout, type Subscription } from "./output-fanout.js";
import { dataEvent, endEvent } from "./process-events.js";
import { type PtySpawnOptions, spawnPtyChild } from "./pty-process.js";
import { spawnPipeChild } from "./spawn.js";

/** How to start one ManagedProcess. */
export interface ManagedProcessOptions {
  readonly spec: SpawnSpec;
  /** The configuration as the client sent it, reported by List. */
  readonly config: ProcessConfig;
  readonly tag: string | undefined;
  readonly log: Logger;
  readonly fanout: Omit<FanoutOptions, "overloadError">;
  /** Descriptors to hide from the child; invalidated whenever a PTY opens or closes. */
  readonly fds: InheritableFds;
  readonly pty: Omit<PtySpawnOptions, "leakyFds">;
}

/** The longest delay setTimeout accepts (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** Where input is meant to go, as the wire ProcessInput names it. */
export type InputKind = "stdin" | "pty";

/**
 * One child envd started, with its output fanned out to any number of
 * listeners. Lifecycle: running → exited (the child is gone and its output
 * drained; `ended` resolves and every listener gets the end event).
 */
export class ManagedProcess {
  readonly pid: number;
  readonly config: ProcessConfig;
  readonly tag: string | undefined;
  /** Resolves with the end status once the child exited and its output was delivered. */
  readonly ended: Promise<EndStatus>;
  readonly #io: ChildIo;
  readonly #fanout: OutputFanout<ProcessEvent>;
  readonly #log: Logger;
  #status: EndStatus | undefined;
  #killed = false;
  #deadline: NodeJS.Timeout | undefined;

  private constructor(
    io: ChildIo,
    fanout: OutputFanout<ProcessEvent>,
    exited: Promise<ChildExit>,
    opts: ManagedProcessOptions,
  ) {
    this.pid = io.pid;
    this.config = opts.config;
    this.tag = opts.tag;
    this.#io = io;
    this.#fanout = fanout;
    this.#log = opts.log.child({ pid: io.pid });
    this.ended = exited.then((exit) => {
      const status = endStatus(exit);
      this.#status = status;
      if (this.#deadline !== undefined) clearTimeout(this.#deadline);
      fanout.finish(endEvent(status));
      this.#log.info({ status: status.status }, "process ended");
      return status;
    });
  }

  /**
   * Spawns the child and returns it with a first subscription that exists
   * before any output can arrive (the Start stream's). Spawn failures become
   * ConnectErrors naming the command.
   */
  static async start(
    opts: ManagedProcessOptions,
  ): Promise<{ process: ManagedProcess; output: Subscription<ProcessEvent> }> {
    let io: ChildIo | undefined;
    // Output cannot arrive before spawn returns (it comes from later I/O
    // callbacks), so the late binding of `io` is never observed as undefined.
    const fanout = new OutputFanout<ProcessEvent>(
      { pause: () => io?.pause(), resume: () => io?.resume() },
      {
        ...opts.fanout,
        overloadError: () =>
          new ConnectError("stream dropped: it fell too far behind the process output", Code.ResourceExhausted),
      },
    );
    const output = fanout.subscribe();
    let onExit: (exit: ChildExit) => void = () => {};
    const exited = new Promise<ChildExit>((resolve) => {
      onExit = resolve;
    });
    const sink: ChildSink = {
      data: (stream, chunk) => fanout.publish(dataEvent(stream, chunk)),
      exit: (exit) => onExit(exit),
    };
    const leakyFds = opts.fds.get();
    try {
      const pty = opts.spec.pty;
      if (pty) {
        // The new master is one more inheritable descriptor, until it closes.
        opts.fds.invalidate();
        io = spawnPtyChild(opts.spec, pty, sink, { ...opts.pty, leakyFds });
        void exited.then(() => opts.fds.invalidate());
      } else {
        io = await spawnPipeChild(opts.spec, sink, leakyFds);
      }
    } catch (err) {
      output.close();
      throw spawnError(err, opts.config.cmd);
    }
    const managed = new ManagedProcess(io, fanout, exited, opts);
    managed.#log.info({ cmd: opts.config.cmd, pty: io.hasPty, tag: opts.tag }, "process started");
    return { process: managed, output };
  }

  /** True until the child has exited and its output was delivered. */
  get running(): boolean {
    return this.#status === undefined;
  }

  /**
   * True once SIGKILL was sent: the process cannot survive it, so List stops
   * showing it even though its exit (and end event) may still be on the way.
   */
  get killed(): boolean {
    return this.#killed;
  }

  get hasPty(): boolean {
    return this.#io.hasPty;
  }

  /** A new listener: live output from now on, then the end event (just the end if already over). */
  /** How many streams (Start and Connect) are listening to the output now. */
  get listenerCount(): number {
    return this.#fanout.listenerCount;
  }

  subscribe(): Subscription<ProcessEvent> {
    return this.#fanout.subscribe();
  }

  /** Ends every listener's stream now (shutdown), so unread output no longer holds the child back. */
  dropListeners(): void {
    this.#fanout.closeAll();
  }

  /** Writes input; throws FailedPrecondition when it cannot go where the client sent it. */
  async write(kind: InputKind, bytes: Uint8Array): Promise<void> {
    if (!this.running) throw precondition(`process ${this.pid} has already exited`);
    if (kind === "pty" && !this.hasPty) throw precondition("process has no PTY: send the input as stdin");
    if (kind === "stdin" && this.hasPty) throw precondition("process has a PTY: send the input as pty input");
    if (kind === "stdin" && !this.#io.stdinOpen) {
      throw precondition("stdin of the process is closed or was not enabled (start it with stdin: true)");
    }
    try {
      await this.#io.write(bytes);
    } catch (err) {
      throw precondition(`cannot write to stdin of process ${this.pid}: ${errnoOf(err) ?? "closed"}`);
    }
  }

  /** Closes stdin (EOF for the child); idempotent. PTYs have no stdin to close. */
  closeStdin(): void {
    if (this.hasPty) {
      throw precondition("process has a PTY, which has no stdin to close: send Ctrl-D (\\x04) as pty input instead");
    }
    this.#io.closeStdin();
  }

  /** Sends a signal; a child that is already gone is not an error (it is about to end). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    if (this.#io.kill(signal) && signal === "SIGKILL") this.#killed = true;
  }

  /** Resizes the terminal; FailedPrecondition without a PTY. */
  resize(size: PtySize): void {
    if (!this.hasPty) throw precondition("process has no PTY to resize");
    if (!this.running) return;
    try {
      this.#io.resize(size);
    } catch {
      // The terminal closed between the exit and our noticing it.
      throw precondition(`process ${this.pid} has already exited`);
    }
  }

  /**
   * Kills the child with SIGKILL after `ms` unless it ended by then. This is
   * the request deadline of Start (the SDK's command timeout); it holds even
   * when the client has disconnected.
   */
  killAfter(ms: number): void {
    if (!this.running) return;
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    const arm = (left: number) => {
      // Node fires longer timers at once; a Connect timeout may be months.
      this.#deadline = setTimeout(
        () => {
          if (left > MAX_TIMER_MS) return arm(left - MAX_TIMER_MS);
          this.#log.info({ timeoutMs: ms }, "deadline expired: killing process");
          this.signal("SIGKILL");
        },
        Math.min(Math.max(0, left), MAX_TIMER_MS),
      );
    };
    arm(ms);
  }
}

function precondition(message: string): ConnectError {
  return new ConnectError(message, Code.FailedPrecondition);
}

function spawnError(err: unknown, cmd: string): ConnectError {
  if (err instanceof ConnectError) return err;
  const errno = errnoOf(err);
  const fail = (why: string, code: Code) =>
    new ConnectError(`cannot start '${cmd}': ${why}`, code, undefined, undefined, err);
  switch (errno) {
    case "ENOENT":
      return fail("executable not found", Code.NotFound);
    case "EACCES":
      return fail("permission denied", Code.PermissionDenied);
    case "EPERM":
      return fail("envd may not switch to the requested user", Code.PermissionDenied);
    default:
      return fail(errno ?? "spawn failed", Code.InvalidArgument);
  }
}
