import { type ChildProcess, spawn } from "node:child_process";
import { isIPv6 } from "node:net";

/** How a socat process ended. `error` is set when it could not be started at all. */
export interface SocatExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/**
 * argv (without the program) for one forward: listen on `bindAddress:port`,
 * fork per connection, connect to the loopback service. The target is an
 * address literal, not `localhost`, so the connection goes to the family the
 * service actually listens on whatever /etc/hosts says.
 */
export function socatArgv(port: number, bindAddress: string, target: 4 | 6): string[] {
  const listen = isIPv6(bindAddress)
    ? `TCP6-LISTEN:${port},bind=[${bindAddress}],reuseaddr,fork`
    : `TCP4-LISTEN:${port},bind=${bindAddress},reuseaddr,fork`;
  const connect = target === 6 ? `TCP6:[::1]:${port}` : `TCP4:127.0.0.1:${port}`;
  return [listen, connect];
}

/** Every socat still alive in this process, killed synchronously if envd exits without stop(). */
const live = new Set<SocatProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Detached children outlive their parent; an exit without stop() (a crash,
  // process.exit) must not leave listeners behind. Only sync work is possible here.
  process.on("exit", () => {
    for (const p of live) p.signalGroup("SIGKILL");
  });
}

/**
 * One supervised socat. It runs in its own process group (detached) so that
 * the children socat forks per connection are killed together with it, and
 * so a terminal's SIGINT aimed at envd does not reach it.
 */
export class SocatProcess {
  /** Process id, which is also the process-group id; undefined if spawning failed. */
  readonly pid: number | undefined;
  /** Resolves once when the process has exited (or failed to start); never rejects. */
  readonly exited: Promise<SocatExit>;
  readonly #child: ChildProcess;
  #running = true;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(command: string, args: readonly string[]) {
    this.#child = spawn(command, args, { detached: true, stdio: "ignore" });
    this.pid = this.#child.pid;
    this.exited = new Promise<SocatExit>((resolve) => {
      const done = (exit: SocatExit) => {
        if (!this.#running) return;
        this.#running = false;
        clearTimeout(this.#killTimer);
        live.delete(this);
        resolve(exit);
      };
      this.#child.once("exit", (code, signal) => {
        // socat may fork a connection handler after its SIGTERM arrived (it
        // exits only once the handler returns), and such a child never saw
        // the signal. Kill whatever is left of the group now: the group id
        // cannot be reused while any member is alive, so this reaches only
        // our stragglers (or nobody).
        this.signalGroup("SIGKILL");
        done({ code, signal });
      });
      this.#child.once("error", (error) => done({ code: null, signal: null, error }));
    });
    if (this.pid !== undefined) {
      live.add(this);
      installExitHook();
    }
  }

  /** False once the process has exited. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Sends SIGTERM to the whole group now and SIGKILL after `graceMs` if it is
   * still running. Returns at once; await `exited` to know it is gone.
   */
  stop(graceMs: number): void {
    if (!this.#running || this.#killTimer) return;
    this.signalGroup("SIGTERM");
    this.#killTimer = setTimeout(() => this.signalGroup("SIGKILL"), graceMs);
    // The child handle itself keeps the loop alive until exit; the timer need not.
    this.#killTimer.unref();
  }

  /** @internal Signals the process group; a group that is already gone is not an error. */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.pid === undefined || !this.#running) return;
    try {
      process.kill(-this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }
}
