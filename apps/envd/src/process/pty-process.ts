import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { IPty } from "node-pty";
import type { ChildIo, ChildSink, PtySize, SpawnSpec } from "./child-io.js";
import { signalName } from "./exit-status.js";
import { setOomScoreAdj } from "./fd-hygiene.js";

type NodePty = typeof import("node-pty");
let nodePty: NodePty | undefined;

/**
 * node-pty, loaded on the first PTY rather than at envd start: it is a
 * native addon, and most capsules never open a terminal. (It is CommonJS, so
 * a synchronous require keeps spawnPtyChild synchronous.)
 */
function loadNodePty(): NodePty {
  nodePty ??= createRequire(import.meta.url)("node-pty") as NodePty;
  return nodePty;
}

/** Largest data event for PTY output (the reference envd's read size). */
export const PTY_CHUNK_BYTES = 16 * 1024;

/** Shell used to close leaked descriptors before exec; see `wrapToCloseFds`. */
const FD_CLOSER_SHELL = "/bin/bash";

/** Options for spawning a PTY child. */
export interface PtySpawnOptions {
  /** envd's descriptors without close-on-exec (see fd-hygiene). */
  readonly leakyFds: readonly number[];
  /** Whether FD_CLOSER_SHELL exists (checked once by the caller). */
  readonly canWrapWithBash: boolean;
  /** Called when descriptors would leak because no closer shell exists. */
  readonly onLeak?: (fds: readonly number[]) => void;
}

/**
 * Spawns a child on a new PTY (node-pty: forkpty, setsid, controlling
 * terminal). Output is read as raw bytes (no UTF-8 decoding, which would
 * corrupt binary output and split multibyte characters).
 *
 * Two things node-pty's fork does not do, handled here:
 * - Supplementary groups: it calls setgid/setuid only, so the child would
 *   keep envd's (root's) groups. envd's groups are switched to the user's
 *   around the synchronous fork. Harmless for envd: it runs as root, whose
 *   file access does not depend on groups, and JS runs nothing in between.
 * - Descriptor hygiene: it does not close inherited descriptors, and PTY
 *   masters are not close-on-exec. When leaky descriptors exist, the command
 *   is started through bash, which closes them and then execs the command
 *   (same pid). Without bash the spawn goes ahead and `onLeak` is told.
 */
export function spawnPtyChild(spec: SpawnSpec, size: PtySize, sink: ChildSink, options: PtySpawnOptions): ChildIo {
  let file = spec.file;
  let args = [...spec.args];
  const leaky = options.leakyFds;
  if (leaky.length > 0) {
    if (options.canWrapWithBash) {
      args = wrapToCloseFds(leaky, spec.file, args);
      file = FD_CLOSER_SHELL;
    } else {
      options.onLeak?.(leaky);
    }
  }
  const pty = withSupplementaryGroups(spec.groups, () =>
    loadNodePty().spawn(file, args, {
      cols: size.cols,
      rows: size.rows,
      cwd: spec.cwd,
      env: { ...spec.env },
      uid: spec.uid,
      gid: spec.gid,
      encoding: null,
    }),
  );
  setOomScoreAdj(pty.pid);
  return new PtyChild(pty, sink);
}

/**
 * argv for bash that closes `fds` and execs the command. POSIX mode keeps a
 * BASH_ENV from the request from being sourced by this extra shell; bash
 * (not sh) because dash cannot name descriptors above 9.
 */
export function wrapToCloseFds(fds: readonly number[], file: string, args: readonly string[]): string[] {
  const closes = fds.map((fd) => `${fd}>&-`).join(" ");
  return ["--posix", "-c", `exec ${closes}; exec "$0" "$@"`, file, ...args];
}

function withSupplementaryGroups<T>(groups: readonly number[], fn: () => T): T {
  if (process.getuid?.() !== 0 || !process.setgroups) return fn();
  const saved = supplementaryGroups();
  process.setgroups([...groups]);
  try {
    return fn();
  } finally {
    process.setgroups(saved);
  }
}

/**
 * envd's own supplementary groups. Read from /proc because
 * process.getgroups() adds the effective gid, and restoring that list would
 * give envd a group it did not have.
 */
export function supplementaryGroups(): number[] {
  try {
    const line = /^Groups:(.*)$/m.exec(readFileSync("/proc/self/status", "latin1"))?.[1] ?? "";
    return line
      .split(/\s+/)
      .filter((g) => g !== "")
      .map(Number);
  } catch {
    return process.getgroups?.() ?? [];
  }
}

/** The subset of node-pty's terminal that is an event emitter (not in its typings). */
interface ErrorEmitter {
  on(event: "error", listener: (err: Error) => void): void;
}

class PtyChild implements ChildIo {
  readonly pid: number;
  readonly hasPty = true;
  readonly stdinOpen = false;
  readonly #pty: IPty;

  constructor(pty: IPty, sink: ChildSink) {
    this.pid = pty.pid;
    this.#pty = pty;
    // node-pty rethrows socket errors other than EIO unless someone else
    // listens; they end the terminal, and the exit is still reported.
    (pty as unknown as ErrorEmitter).on("error", () => {});
    pty.onData((data: string | Buffer) => {
      const chunk = typeof data === "string" ? Buffer.from(data) : data;
      for (let offset = 0; offset < chunk.length; offset += PTY_CHUNK_BYTES) {
        sink.data("pty", chunk.subarray(offset, offset + PTY_CHUNK_BYTES));
      }
    });
    // node-pty reports the exit once the terminal output is drained (or after
    // a short grace period when a background job keeps the terminal open).
    pty.onExit(({ exitCode, signal }) => {
      sink.exit(signal ? { code: null, signal: signalName(signal) } : { code: exitCode, signal: null });
    });
  }

  pause(): void {
    this.#pty.pause();
  }

  resume(): void {
    this.#pty.resume();
  }

  write(bytes: Uint8Array): Promise<void> {
    // node-pty queues the bytes and retries on EAGAIN itself; there is no completion callback.
    this.#pty.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return Promise.resolve();
  }

  closeStdin(): void {
    throw new Error("process has a PTY");
  }

  resize(size: PtySize): void {
    this.#pty.resize(size.cols, size.rows);
  }

  kill(signal: NodeJS.Signals): boolean {
    try {
      return process.kill(this.pid, signal);
    } catch {
      return false;
    }
  }
}
