/** Runs the real agent (`main.ts`) as a child process for end-to-end tests. @internal */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/** A running agent process. @internal */
export interface AgentProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly client: Client<typeof HostAgentService>;
  /** Every log line so far (pino JSON on stdout, anything on stderr). */
  output(): string;
  /** Resolves with the exit once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the agent with exactly `env` (plus PATH) and `args`; resolves once it serves. @internal */
export async function spawnAgent(
  env: Record<string, string>,
  args: string[] = [],
  readyMs = 60_000,
): Promise<AgentProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    env: { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let url: string | undefined;
  let onReady: (() => void) | undefined;
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    const m = /"url":"([^"]+)","tls":(?:true|false),"msg":"host agent serving"/.exec(out);
    if (m?.[1] && url === undefined) {
      url = m[1];
      onReady?.();
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready in ${readyMs} ms:\n${out}`)), readyMs);
    onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${e.code ?? e.signal}) before serving:\n${out}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    // Never leave an agent running behind a failed start (it may hold slots and capsules).
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    throw err;
  }
  const baseUrl = url ?? "";
  return {
    child,
    pid: child.pid ?? 0,
    url: baseUrl,
    client: createClient(HostAgentService, createConnectTransport({ baseUrl, httpVersion: "1.1" })),
    output: () => out,
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Runs main.ts to completion (e.g. --help); resolves with its exit code and output. @internal */
export function runAgentOnce(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** PIDs in a cgroup's `cgroup.procs` (empty when the cgroup is gone). @internal */
export function cgroupProcs(dir: string): number[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a PID is a live process (gone and zombies count as dead). @internal */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}
