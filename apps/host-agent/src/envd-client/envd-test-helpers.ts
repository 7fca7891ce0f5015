import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@wrenn/kit";
import { ExecFileRunner, runChecked } from "../exec/command-runner.js";

/** The envd bundle built by `npm run build -w @wrenn/envd` (apps never import each other's code). @internal */
export const ENVD_BUNDLE = fileURLToPath(new URL("../../../envd/dist/envd.mjs", import.meta.url));

/** A spawned envd on 127.0.0.1. @internal */
export interface TestEnvd extends AsyncDisposable {
  readonly port: number;
  readonly pid: number;
  readonly baseUrl: string;
}

/** Spawns the envd bundle on a free loopback port (not waiting for it). Dispose stops it by pid. @internal */
export async function spawnEnvd(): Promise<TestEnvd> {
  const port = await freePort();
  const runDir = await mkdtemp(join(tmpdir(), "wrenn-envd-client-"));
  const child: ChildProcess = spawn(
    process.execPath,
    [ENVD_BUNDLE, "--port", String(port), "--host", "127.0.0.1", "--run-dir", runDir, "--log-level", "warn"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("envd did not start");
  return {
    port,
    pid,
    baseUrl: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        process.kill(pid, "SIGCONT");
        child.kill("SIGTERM");
        await exited;
      }
      await rm(runDir, { recursive: true, force: true });
    },
  };
}

/** Why envd tests cannot run, or undefined. @internal */
export function envdSkipReason(): string | undefined {
  return existsSync(ENVD_BUNDLE) ? undefined : `${ENVD_BUNDLE} is missing: run npm run build -w @wrenn/envd`;
}

/** TCP connections on envd's side of `port` that are not fully closed (ss, argv only). @internal */
export async function openServerSockets(port: number): Promise<number> {
  const r = await runChecked(new ExecFileRunner(), ["ss", "-Htn", "state", "connected", "sport", "=", `:${port}`]);
  return r.stdout.split("\n").filter((l) => l.trim() !== "" && !/TIME-WAIT/i.test(l)).length;
}
