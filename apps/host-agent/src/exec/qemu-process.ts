import { spawn } from "node:child_process";
import type { Argv } from "./command-runner.js";

/** How a supervised process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A long-running child (a VMM) whose life the caller owns. */
export interface SupervisedProcess {
  readonly pid: number;
  /** Resolves once the process has exited; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** The last few KiB of stderr (for error messages when start-up fails). */
  stderrTail(): string;
  /** Sends `signal` by PID if still running. */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

const STDERR_KEEP = 8192;
const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Spawns `argv` (no shell) with stdin/stdout ignored, stderr captured, and `extraFds` inherited
 * as fds 3, 4, … (e.g. a snapshot file for `-incoming fd:3`). Rejects if it cannot start.
 */
export async function spawnQemuProcess(argv: Argv, extraFds: readonly number[] = []): Promise<SupervisedProcess> {
  const [command, ...args] = argv;
  const child = spawn(command, args, {
    stdio: ["ignore", "ignore", "pipe", ...extraFds],
    env: { PATH: BASE_PATH, LANG: "C.UTF-8" },
  });
  let tail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    tail = (tail + d).slice(-STDERR_KEEP);
  });
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid ?? -1));
    child.once("error", reject);
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const kill = (signal: NodeJS.Signals) => {
    if (!done) child.kill(signal);
  };
  return {
    pid,
    exited,
    stderrTail: () => tail,
    kill,
    async stop(graceMs = 3000) {
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}
