import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** O_CLOEXEC as /proc/<pid>/fdinfo reports it (the generic Linux value, also on arm64). */
const O_CLOEXEC = 0o2000000;

/**
 * A cached `inheritableFds()`. Only node-pty creates inheritable
 * descriptors at runtime (everything else in envd goes through libuv, which
 * sets O_CLOEXEC), so the scan (about 1 ms with 70 open descriptors) is
 * repeated only after a PTY is opened or closed, not on every exec. A stale
 * entry is harmless: the child just gets /dev/null at that number.
 */
export class InheritableFds {
  #cached: readonly number[] | undefined;

  /** Descriptors to hide from the next child. */
  get(): readonly number[] {
    this.#cached ??= inheritableFds();
    return this.#cached;
  }

  /** Forces a rescan before the next spawn (a PTY master was opened or closed). */
  invalidate(): void {
    this.#cached = undefined;
  }
}

/**
 * File descriptors above stderr that a child would inherit: those open
 * without close-on-exec. Node and libuv open everything with O_CLOEXEC, but
 * node-pty's PTY masters are not (forkpty cannot set it), and envd may have
 * inherited descriptors from whatever started it. A child given another
 * session's PTY master could type into that terminal — possibly a root
 * shell — so every spawn hides these. Empty where /proc is unavailable.
 */
export function inheritableFds(): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  const fds: number[] = [];
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, "latin1");
    } catch {
      continue; // the directory handle readdir used, already closed
    }
    const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
    if (flags !== undefined && (Number.parseInt(flags, 8) & O_CLOEXEC) === 0) fds.push(fd);
  }
  return fds.sort((a, b) => a - b);
}

/**
 * Makes a child more likely than envd to be chosen by the OOM killer, as the
 * reference envd does (envd itself may run protected). Best effort: it fails
 * harmlessly without privileges or when the child is already gone. Done
 * synchronously right after spawn so that few grandchildren can be forked
 * before it applies.
 */
export function setOomScoreAdj(pid: number, score = 100): boolean {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(score));
    return true;
  } catch {
    return false;
  }
}
