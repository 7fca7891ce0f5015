import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Path of the bundled envd (built by `npm run build -w @wrenn/envd`). */
export const ENVD_BUNDLE = fileURLToPath(new URL("../../dist/envd.mjs", import.meta.url));

/** envd running as its own process, so its memory can be measured apart from the test's. */
export interface SpawnedEnvd extends AsyncDisposable {
  readonly url: string;
  readonly pid: number;
  /** Resident set size of the envd process now, in bytes (from /proc). */
  rss(): Promise<number>;
}

/**
 * Starts the bundled envd on a free loopback port and resolves once it
 * listens (it logs its URL). Startup stderr is attached to the error if it
 * exits first. Dispose sends SIGTERM and waits for the exit.
 * @internal
 */
export async function spawnEnvd(args: readonly string[] = []): Promise<SpawnedEnvd> {
  if (!existsSync(ENVD_BUNDLE)) throw new Error(`${ENVD_BUNDLE} is missing: run ./wrenn build first`);
  const child = spawn(process.execPath, [ENVD_BUNDLE, "--port", "0", "--host", "127.0.0.1", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === "envd listening" && entry.url) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    child.once("exit", (code) => reject(new Error(`envd exited with ${code} before listening:\n${stderr}`)));
  });
  child.stdout?.resume();
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
