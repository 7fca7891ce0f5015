import type { ChildExit } from "./exit-status.js";

/** Which output a chunk came from; `pty` is the merged terminal output. */
export type OutputName = "stdout" | "stderr" | "pty";

/** Terminal size in character cells. */
export interface PtySize {
  readonly cols: number;
  readonly rows: number;
}

/** Everything needed to start one child; built and validated by `prepareSpawn`. */
export interface SpawnSpec {
  /** Absolute path of the executable (already looked up in PATH). */
  readonly file: string;
  /** argv[0] as the client sent it (e.g. "bash" when file is "/usr/bin/bash"). */
  readonly argv0: string;
  readonly args: readonly string[];
  /** The complete environment of the child (nothing is inherited from envd). */
  readonly env: Readonly<Record<string, string>>;
  /** Existing absolute directory. */
  readonly cwd: string;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups of the user (applied where the spawn mechanism allows it). */
  readonly groups: readonly number[];
  /** Terminal size when the child gets a PTY; undefined for plain pipes. */
  readonly pty: PtySize | undefined;
  /** Whether a stdin pipe is kept open for input; false gives the child /dev/null. Ignored for PTYs. */
  readonly stdin: boolean;
}

/** Receives a child's output; the spawner calls `exit` once, after the last `data`. */
export interface ChildSink {
  data(stream: OutputName, chunk: Uint8Array): void;
  exit(exit: ChildExit): void;
}

/**
 * A running child as the process table drives it, whatever the spawn
 * mechanism (pipes or a PTY).
 */
export interface ChildIo {
  readonly pid: number;
  /** True when the child runs on a PTY (input goes to the terminal, no separate stderr). */
  readonly hasPty: boolean;
  /** True while a stdin pipe is open (always false for PTYs). */
  readonly stdinOpen: boolean;
  /** Stops reading output (back-pressure); the child blocks once the kernel buffer is full. */
  pause(): void;
  resume(): void;
  /** Writes to stdin (pipes) or the terminal (PTY); resolves once the bytes are handed to the kernel. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the stdin pipe (EOF for the child). No-op when already closed. */
  closeStdin(): void;
  /** Changes the terminal size; throws when there is no PTY. */
  resize(size: PtySize): void;
  /** Sends a signal; false when the child is already gone. */
  kill(signal: NodeJS.Signals): boolean;
}
