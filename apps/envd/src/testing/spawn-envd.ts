import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "@wrenn/kit";

export { freePort };

/** Path of the bundled envd (built by `npm run build -w @wrenn/envd`). */
export const ENVD_BUNDLE = fileURLToPath(new URL("../../dist/envd.mjs", import.meta.url));

/** The CommonJS loader beside it, what guest images start (skips Node's ES module loader). */
export const ENVD_LOADER = fileURLToPath(new URL("../../dist/envd.cjs", import.meta.url));

/** envd running as its own process, so its memory can be measured apart from the test's. */
export interface SpawnedEnvd extends AsyncDisposable {
  readonly url: string;
  readonly pid: number;
  /** Resident set size of the envd process now, in bytes (from /proc). */
  rss(): Promise<number>;
}

/**
 * Starts the bundled envd on a free loopback port and resolves once
 * `/health` answers (whatever the log level). Startup stderr is attached to
 * the error if it exits first. Dispose sends SIGTERM and waits for the exit.
 * `bundle` runs another build instead (benchmarks compare builds with it);
 * `nodeArgs` go before it on node's command line (V8 flags).
 * @internal
 */
export async function spawnEnvd(
  args: readonly string[] = [],
  bundle = ENVD_BUNDLE,
  nodeArgs: readonly string[] = [],
): Promise<SpawnedEnvd> {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build -w @wrenn/envd first`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, bundle, "--port", String(port), "--host", "127.0.0.1", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`envd exited (${child.exitCode ?? child.signalCode}) before answering:\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`envd did not answer /health within 15 s:\n${stderr}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error("envd has no pid");
  return {
    url,
    pid,
    rss: async () => rssOf(pid),
    async [Symbol.asyncDispose]() {
      await stop(child);
    },
  };
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
