/**
 * A Runtime with no isolation at all: each capsule is the real envd bundle running as a
 * child of the agent on 127.0.0.1. It exists so the SandboxManager (and dev setups without
 * root) exercise real envd processes quickly; it must never serve untrusted users.
 */
import { access, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, PlatformError } from "@wrenn/kit";
import { EnvdClient } from "../envd-client/envd-client.js";
import { spawnSupervised } from "../exec/spawn-supervised.js";
import type {
  PauseMode,
  Runtime,
  RuntimeAvailability,
  SandboxExit,
  SandboxHandle,
  SandboxSpec,
  SandboxUsage,
} from "../runtime/runtime.js";

/** The envd bundle built by `npm run build -w @wrenn/envd`. */
export const DEFAULT_ENVD_BUNDLE = fileURLToPath(new URL("../../../envd/dist/envd.mjs", import.meta.url));

/** Options of {@link LoopbackRuntime}. */
export interface LoopbackRuntimeOptions {
  /** Path of envd.mjs. @default the monorepo's apps/envd/dist/envd.mjs */
  readonly envdBundle?: string;
  /** How long create waits for envd's /health. @default 15000 */
  readonly startTimeoutMs?: number;
  /**
   * What handles report as {@link SandboxHandle.pausesInPlace}. SIGSTOP does pause in place;
   * `false` makes the manager treat each pause as a snapshot to restore (envd prepared before,
   * `/init` after), so tests drive that path on real envd processes. @default true
   */
  readonly pausesInPlace?: boolean;
}

// Linux reports /proc times in USER_HZ ticks, which is 100 on every architecture Node supports.
const TICK_MICROS = 10_000;
const PAGE_BYTES = 4096;

/**
 * Runs envd on a free loopback port per capsule. The network slot in the spec is ignored
 * (the manager still acquires one so slot accounting matches the real runtimes). Pause is
 * SIGSTOP of envd and all its descendants (PauseMode "memory"), resume SIGCONT.
 */
export class LoopbackRuntime implements Runtime {
  /** Reported as "namespace": RuntimeKind has no loopback member and this is its unisolated stand-in. */
  readonly kind = "loopback" as const;
  readonly #bundle: string;
  readonly #startTimeoutMs: number;
  readonly #pausesInPlace: boolean;

  constructor(options: LoopbackRuntimeOptions = {}) {
    this.#bundle = options.envdBundle ?? DEFAULT_ENVD_BUNDLE;
    this.#startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.#pausesInPlace = options.pausesInPlace ?? true;
  }

  async availability(): Promise<RuntimeAvailability> {
    try {
      await access(this.#bundle);
      return { available: true, reason: `envd bundle found at ${this.#bundle} (no isolation: development only)` };
    } catch {
      return { available: false, reason: `${this.#bundle} is missing: run npm run build -w @wrenn/envd` };
    }
  }

  async create(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    signal?.throwIfAborted();
    const runDir = join(spec.stateDir, "envd-run");
    await mkdir(runDir, { recursive: true });
    const port = await freePort();
    const proc = await spawnSupervised(
      [process.execPath, this.#bundle, "--port", String(port), "--host", "127.0.0.1", "--run-dir", runDir],
      { env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: runDir } },
    );
    const envdUrl = `http://127.0.0.1:${port}`;
    const exited: Promise<SandboxExit> = proc.exited.then((e) => ({ code: e.code, signal: e.signal }));
    let disposed: Promise<void> | undefined;
    const dispose = () => {
      disposed ??= (async () => {
        const tree = await descendants(proc.pid);
        // A stopped process only acts on SIGTERM once continued.
        for (const pid of [proc.pid, ...tree]) signalPid(pid, "SIGCONT");
        await proc[Symbol.asyncDispose]();
        for (const pid of tree) signalPid(pid, "SIGKILL");
        await rm(runDir, { recursive: true, force: true });
      })();
      return disposed;
    };
    const client = new EnvdClient({ baseUrl: envdUrl });
    try {
      const wait = AbortSignal.timeout(this.#startTimeoutMs);
      await Promise.race([
        client.waitHealthy(signal ? AbortSignal.any([wait, signal]) : wait, 50),
        exited.then((e) => {
          throw new PlatformError("internal", "ENVD_EXITED", `envd exited (${e.code ?? e.signal}): ${proc.output()}`);
        }),
      ]);
    } catch (err) {
      await dispose();
      throw err;
    } finally {
      client.close();
    }
    return {
      envdUrl,
      exited,
      pausesInPlace: this.#pausesInPlace,
      async pause(): Promise<PauseMode> {
        // envd first, so it cannot start new children while the tree is being walked.
        signalPid(proc.pid, "SIGSTOP");
        const tree = await descendants(proc.pid);
        for (const pid of tree) signalPid(pid, "SIGSTOP");
        // kill() returns before a running target has actually stopped: wait until it has.
        await waitStopped([proc.pid, ...tree]);
        return "memory";
      },
      async resume(): Promise<void> {
        for (const pid of await descendants(proc.pid)) signalPid(pid, "SIGCONT");
        signalPid(proc.pid, "SIGCONT");
      },
      async usage(): Promise<SandboxUsage> {
        let cpuUsageMicros = 0;
        let memoryBytes = 0;
        for (const pid of [proc.pid, ...(await descendants(proc.pid))]) {
          const st = await procStat(pid);
          if (!st) continue;
          cpuUsageMicros += st.cpuTicks * TICK_MICROS;
          memoryBytes += st.rssPages * PAGE_BYTES;
        }
        return { cpuUsageMicros, memoryBytes, diskBytes: 0 };
      },
      [Symbol.asyncDispose]: dispose,
    };
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: nothing to signal.
  }
}

/** Polls /proc until every pid is stopped (T), a zombie or gone; rejects after `ms`. */
async function waitStopped(pids: readonly number[], ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const states = await Promise.all(pids.map(async (p) => (await procStat(p))?.state));
    if (states.every((st) => st === undefined || st === "T" || st === "t" || st === "Z")) return;
    if (Date.now() > end) throw new PlatformError("internal", "PAUSE_TIMEOUT", "capsule processes did not stop");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Every live descendant of `pid`, read from /proc/<pid>/task/<tid>/children. */
export async function descendants(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    let tids: string[];
    try {
      tids = await readdir(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const text = await readFile(`/proc/${p}/task/${tid}/children`, "utf8").catch(() => "");
      for (const c of text.split(" ")) {
        const n = Number(c);
        if (c.trim() !== "" && Number.isInteger(n) && !out.includes(n)) {
          out.push(n);
          queue.push(n);
        }
      }
    }
  }
  return out;
}

/** State letter, CPU ticks and RSS pages of one process, or undefined once it is gone. */
export async function procStat(
  pid: number,
): Promise<{ state: string; cpuTicks: number; rssPages: number } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name may contain spaces and parentheses: fields start after the LAST ')'.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: f[0] ?? "?", cpuTicks: Number(f[11]) + Number(f[12]), rssPages: Number(f[21]) };
}
