/** Runs http-load.ts as a child process and reads its JSON result. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BENCH_PROCESS_MARKER } from "./environment.js";
import type { LoadResult } from "./http-load.js";

const SCRIPT = fileURLToPath(new URL("./http-load.ts", import.meta.url));

function startLoad(args: readonly string[]): { child: ChildProcess; result: Promise<LoadResult> } {
  // The marker argument lets the start-up sweep of a later run find a child a crash left.
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, ...args, BENCH_PROCESS_MARKER], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`http-load ${args[0]} failed (${code}): ${err.trim().slice(-300)}`));
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch {
        reject(new Error(`http-load ${args[0]} printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
  return { child, result };
}

/** Runs one finite load (download or small) to completion; `signal` kills it by PID. */
export async function runLoad(args: readonly string[], signal: AbortSignal): Promise<LoadResult> {
  const { child, result } = startLoad(args);
  const onAbort = () => child.kill("SIGKILL");
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await result;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** A running flood; `stop()` ends it (stdin closed) and resolves with what it moved. */
export interface Flood {
  stop(): Promise<LoadResult>;
}

/**
 * Starts `connections` back-to-back large downloads of `url` in a child process; an https
 * `url` needs `tlsDir` (ca.pem, cert.pem, key.pem: the client side of mTLS).
 */
export function startFlood(url: string, connections: number, tlsDir?: string): Flood {
  const { child, result } = startLoad(["flood", url, String(connections), ...(tlsDir ? [tlsDir] : [])]);
  // Keep the rejection observed even if stop() is never reached.
  result.catch(() => undefined);
  return {
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      try {
        return await result;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
