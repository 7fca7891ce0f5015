import { constants } from "node:os";

/** How a child ended, as the OS reported it (one of the two is set). */
export interface ChildExit {
  /** Exit code when the child called exit(); null when a signal killed it. */
  readonly code: number | null;
  /** Name of the signal that killed the child (e.g. "SIGKILL"), else null. */
  readonly signal: string | null;
}

/** The fields of the wire `EndEvent`, computed the way E2B's Go envd reports them. */
export interface EndStatus {
  /** Exit code; -1 when a signal killed the process (Go's ProcessState.ExitCode). */
  readonly exitCode: number;
  /** True when the process called exit(); false for a signal death. */
  readonly exited: boolean;
  /** "exit status N" or "signal: killed" — Go's ProcessState.String(). */
  readonly status: string;
  /** Set (to the status text) unless the process exited with 0, as Go's cmd.Wait() error. */
  readonly error: string | undefined;
}

/**
 * Go spells signals with the C library's descriptions, and clients (the e2b
 * SDK shows `error` to users) have seen these strings for years, so they are
 * kept rather than Node's SIGxxx names. Unlisted signals fall back to the name.
 */
const SIGNAL_TEXT: Readonly<Record<string, string>> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGTRAP: "trace/breakpoint trap",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGUSR1: "user defined signal 1",
  SIGSEGV: "segmentation fault",
  SIGUSR2: "user defined signal 2",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
  SIGXCPU: "CPU time limit exceeded",
  SIGXFSZ: "file size limit exceeded",
  SIGVTALRM: "virtual timer expired",
  SIGPROF: "profiling timer expired",
  SIGSYS: "bad system call",
};

/** Converts a signal number (as node-pty reports it) into its name, e.g. 9 → "SIGKILL". */
export function signalName(signal: number): string {
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === signal) return name;
  }
  return `signal ${signal}`;
}

/** Builds the EndEvent fields for a finished child. */
export function endStatus(exit: ChildExit): EndStatus {
  if (exit.signal !== null) {
    const status = `signal: ${SIGNAL_TEXT[exit.signal] ?? exit.signal}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const code = exit.code ?? -1;
  const status = `exit status ${code}`;
  return { exitCode: code, exited: true, status, error: code === 0 ? undefined : status };
}
