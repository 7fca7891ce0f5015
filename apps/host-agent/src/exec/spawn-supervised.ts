import { spawn } from "node:child_process";
import type { Argv } from "./command-runner.js";

/** How a supervised child ended. */
export interface SupervisedExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A long-running child process (a capsule launcher, a VMM) owned by the agent. */
export interface SupervisedProcess extends AsyncDisposable {
  readonly pid: number;
  /** Resolves when the child exits; never rejects. */
  readonly exited: Promise<SupervisedExit>;
  /** The last bytes the child wrote to stdout and stderr (bounded), for error messages. */
  output(): string;
  /** Sends a signal to the child itself (never to a process group). */
  kill(signal: NodeJS.Signals): void;
}

/** Options for {@link spawnSupervised}. */
export interface SpawnSupervisedOptions {
  /** The whole environment of the child (nothing is inherited). */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes of output kept for error messages. @default 16384 */
  readonly keepOutputBytes?: number;
  /** Grace period between SIGTERM and SIGKILL on dispose. @default 2000 */
  readonly killAfterMs?: number;
}

const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Starts `argv` as a supervised child: argv only (no shell), a clean environment, stdin at EOF,
 * stdout/stderr drained into a bounded buffer (a full pipe would block the child). Dispose sends
 * SIGTERM, then SIGKILL after a grace period, and awaits the exit.
 */
export function spawnSupervised(argv: Argv, opts: SpawnSupervisedOptions = {}): Promise<SupervisedProcess> {
  const [command, ...args] = argv;
  const keep = opts.keepOutputBytes ?? 16384;
  let buffered = "";
  const child = spawn(command, args, {
    // stdin is a pipe closed at once (EOF), not "ignore": that would hand the child a host
    // /dev/null, which leaks into a capsule and blocks CRIU.
    stdio: ["pipe", "pipe", "pipe"],
    env: opts.env ?? { PATH: BASE_PATH },
  });
  child.stdin.end();
  const append = (chunk: Buffer) => {
    buffered = (buffered + chunk.toString("utf8")).slice(-keep);
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  const exited = new Promise<SupervisedExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    child.once("error", (err) => reject(err));
    child.once("spawn", () => {
      const pid = child.pid;
      if (pid === undefined) return reject(new Error(`${command} did not start`));
      let disposed: Promise<void> | undefined;
      resolve({
        pid,
        exited,
        output: () => buffered,
        kill: (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
        [Symbol.asyncDispose]() {
          disposed ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill("SIGTERM");
              const timer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 2000);
              await exited;
              clearTimeout(timer);
            }
            child.stdout.destroy();
            child.stderr.destroy();
          })();
          return disposed;
        },
      });
    });
  });
}
