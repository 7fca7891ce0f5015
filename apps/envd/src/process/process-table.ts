import { accessSync, constants } from "node:fs";
import type { Logger } from "@wrenn/kit";
import type { ProcessConfig, ProcessEvent } from "@wrenn/protocol/envd/process";
import type { EnvdEnv } from "../env.js";
import type { SpawnSpec } from "./child-io.js";
import { InheritableFds } from "./fd-hygiene.js";
import type { ManagedProcess } from "./managed-process.js";
import type { Subscription } from "./output-fanout.js";

// The table exists from envd's start, but spawning (ManagedProcess, Connect
// errors, the protobuf schemas, node:child_process) is imported on the first
// start(): envd answers /health without loading any of it.

/** Tuning of a ProcessTable; the defaults suit production. */
export interface ProcessTableOptions {
  /** Output events queued per listener before back-pressure applies. @default 256 */
  readonly queueCapacity?: number;
  /** How long a full listener may hold back others before it is dropped. @default 10_000 */
  readonly listenerStallLimitMs?: number;
  /**
   * Called after every child start, command or PTY (envd makes its port
   * forwarder scan fast then, so a server the child starts is reachable soon).
   * Must not throw. @default none
   */
  readonly onStarted?: () => void;
}

/** How long dispose lets killed children finish delivering their end events. */
const DISPOSE_GRACE_MS = 500;

/**
 * Every process envd started and that has not ended yet, by pid. Entries are
 * removed once the end event is out, so List shows running processes only.
 *
 * Tags are not required to be unique, as in E2B's envd: rejecting a duplicate
 * would break a client that restarts a tagged command before the old one is
 * reaped. A tag selector picks the oldest running process with that tag
 * (insertion order), which keeps the answer stable while both run.
 */
export class ProcessTable implements AsyncDisposable {
  readonly #log: Logger;
  readonly #options: ProcessTableOptions;
  readonly #processes = new Map<number, ManagedProcess>();
  readonly #fds = new InheritableFds();
  #canWrapWithBash: boolean | undefined;
  #disposed = false;

  constructor(log: Logger, options: ProcessTableOptions = {}) {
    this.#log = log;
    this.#options = options;
  }

  /** Starts a child and tracks it; returns it with its first output subscription. */
  async start(opts: {
    readonly spec: SpawnSpec;
    readonly config: ProcessConfig;
    readonly tag: string | undefined;
  }): Promise<{ process: ManagedProcess; output: Subscription<ProcessEvent> }> {
    const { ManagedProcess } = await import("./managed-process.js");
    if (this.#disposed) {
      const { Code, ConnectError } = await import("@connectrpc/connect");
      throw new ConnectError("envd is shutting down", Code.Unavailable);
    }
    const started = await ManagedProcess.start({
      ...opts,
      log: this.#log,
      fanout: { capacity: this.#options.queueCapacity, stallLimitMs: this.#options.listenerStallLimitMs },
      fds: this.#fds,
      pty: {
        canWrapWithBash: this.#bashAvailable(),
        onLeak: (fds) =>
          this.#log.warn({ fds }, "no /bin/bash to close leaked descriptors; the PTY child inherits them"),
      },
    });
    const proc = started.process;
    this.#processes.set(proc.pid, proc);
    this.#options.onStarted?.();
    void proc.ended.then(() => {
      // The pid may already belong to a newer child (reuse after reaping).
      if (this.#processes.get(proc.pid) === proc) this.#processes.delete(proc.pid);
    });
    return started;
  }

  /**
   * Starts a command as envd's default user with its output discarded
   * (`envd --cmd`). Resolves with the pid once it runs.
   */
  async startDetached(opts: { cmd: string; args: string[]; tag?: string; env: EnvdEnv }): Promise<number> {
    const { env } = opts;
    const [{ create }, { ProcessConfigSchema }, { prepareSpawn }] = await Promise.all([
      import("@bufbuild/protobuf"),
      import("@wrenn/protocol/envd/process"),
      import("./spawn-spec.js"),
    ]);
    const user = env.users.lookup(env.state.defaultUser);
    const spec = await prepareSpawn(
      user,
      { cmd: opts.cmd, args: opts.args, envs: {}, cwd: undefined, pty: undefined, stdin: false },
      { envVars: env.state.envVars, defaultWorkdir: env.state.defaultWorkdir },
    );
    const config = create(ProcessConfigSchema, { cmd: opts.cmd, args: opts.args });
    const { process: proc, output } = await this.start({ spec, config, tag: opts.tag });
    output.close();
    return proc.pid;
  }

  /** The tracked process with this pid, if any. */
  byPid(pid: number): ManagedProcess | undefined {
    return this.#processes.get(pid);
  }

  /** The oldest tracked process with this tag, if any. */
  byTag(tag: string): ManagedProcess | undefined {
    for (const proc of this.#processes.values()) if (proc.tag === tag) return proc;
    return undefined;
  }

  /** Running processes for List, oldest first (a SIGKILLed one is as good as gone). */
  list(): ManagedProcess[] {
    return [...this.#processes.values()].filter((p) => !p.killed);
  }

  /** Kills every child (SIGKILL) and waits until all have exited. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#disposed = true;
    const procs = [...this.#processes.values()];
    for (const proc of procs) proc.signal("SIGKILL");
    const all = Promise.all(procs.map((p) => p.ended));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<"grace">((resolve) => {
      timer = setTimeout(() => resolve("grace"), DISPOSE_GRACE_MS);
    });
    if ((await Promise.race([all, grace])) === "grace") {
      // Streams nobody reads any more would hold the output (and the end) back.
      for (const proc of procs) proc.dropListeners();
      await all;
    }
    clearTimeout(timer);
  }

  #bashAvailable(): boolean {
    if (this.#canWrapWithBash === undefined) {
      try {
        accessSync("/bin/bash", constants.X_OK);
        this.#canWrapWithBash = true;
      } catch {
        this.#canWrapWithBash = false;
      }
    }
    return this.#canWrapWithBash;
  }
}
