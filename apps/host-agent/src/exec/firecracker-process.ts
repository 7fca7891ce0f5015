/**
 * Spawns and supervises one Firecracker process inside a network namespace. Lives in exec/
 * because it is one of the few places allowed to use child_process (argv only, no shell).
 */
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";

/** How the process ended. Never rejects. */
export interface FirecrackerExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Last lines of stdout/stderr, for the crash report. */
  readonly output: string;
}

/** Options for one process. */
export interface FirecrackerProcessOptions {
  /** Path or name of the firecracker binary. */
  readonly binary: string;
  /** API socket to create (must not exist yet). */
  readonly apiSocket: string;
  /** netns to enter (`/run/netns/...`); the VM's TAP lives there. */
  readonly netnsPath: string;
  /** Time between SIGTERM and SIGKILL on dispose. @default 2000 */
  readonly killAfterMs?: number;
}

/** Keeps the tail of the VMM's output for error messages without growing without bound. */
const OUTPUT_TAIL = 8 * 1024;

/** PURE: the argv that starts Firecracker inside `netnsPath` (nsenter execs, so the pid is Firecracker's). */
export function firecrackerArgv(opts: Pick<FirecrackerProcessOptions, "binary" | "apiSocket" | "netnsPath">): string[] {
  return ["nsenter", `--net=${opts.netnsPath}`, "--", opts.binary, "--api-sock", opts.apiSocket];
}

/** A running Firecracker process. Dispose = SIGTERM, SIGKILL after a delay, await exit. */
export class FirecrackerProcess implements AsyncDisposable {
  readonly pid: number;
  /** Resolves when the process exits for any reason; never rejects. */
  readonly exited: Promise<FirecrackerExit>;
  #done = false;
  readonly #killAfterMs: number;

  private constructor(
    pid: number,
    exited: Promise<FirecrackerExit>,
    readonly apiSocket: string,
    killAfterMs: number,
  ) {
    this.pid = pid;
    this.exited = exited;
    this.#killAfterMs = killAfterMs;
  }

  /** Starts the process. Rejects if it cannot be spawned (binary missing...). */
  static async spawn(opts: FirecrackerProcessOptions): Promise<FirecrackerProcess> {
    const [cmd, ...args] = firecrackerArgv(opts);
    const child = spawn(cmd ?? "nsenter", args, {
      // Own process group: a signal to the agent's group must not kill VMs mid-snapshot.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
    });
    let tail = "";
    const keep = (c: Buffer) => {
      tail = (tail + c.toString("utf8")).slice(-OUTPUT_TAIL);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid ?? -1));
      child.once("error", reject);
    });
    const exited = new Promise<FirecrackerExit>((resolve) => {
      child.once("close", (code, signal) => resolve({ code, signal, output: tail }));
    });
    const proc = new FirecrackerProcess(pid, exited, opts.apiSocket, opts.killAfterMs ?? 2000);
    void exited.then(() => {
      proc.#done = true;
    });
    return proc;
  }

  /**
   * Resolves once the API socket exists; rejects if the process exits first, the signal
   * aborts, or `timeoutMs` passes. Racing exit matters: a bad flag makes Firecracker quit at once.
   */
  async waitForSocket(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exit: FirecrackerExit | undefined;
    void this.exited.then((e) => {
      exit = e;
    });
    while (true) {
      signal?.throwIfAborted();
      if (exit)
        throw new Error(
          `firecracker exited (${exit.code ?? exit.signal}) before its API socket appeared: ${exit.output.trim()}`,
        );
      if (await exists(this.apiSocket)) return;
      if (Date.now() > deadline)
        throw new Error(`firecracker API socket ${this.apiSocket} did not appear in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#done) return;
    signalGroup(this.pid, "SIGTERM");
    const timer = setTimeout(() => signalGroup(this.pid, "SIGKILL"), this.#killAfterMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    // Negative pid: the whole group we created with `detached`.
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
