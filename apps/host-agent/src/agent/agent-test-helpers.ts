/** Runs the real agent (`main.ts`) as a child process for end-to-end tests. @internal */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { freePort, MemoryLogger } from "@wrenn/kit";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { type AgentConfig, loadConfig } from "../config.js";
import { ExecFileRunner } from "../exec/command-runner.js";
import type { NetConfig } from "../net/net-config.js";
import { ownedLeftovers, testNetConfig } from "../net/netns-test-helpers.js";
import { V1_CONTROLLERS } from "../runtime/namespace/cgroup-plan.js";
import { type Agent, startAgent } from "./agent.js";

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

/** An in-process agent (the real composition: startAgent) on a test prefix and state dir. @internal */
export interface TestAgent extends AsyncDisposable {
  readonly agent: Agent;
  readonly client: Client<typeof HostAgentService>;
  readonly config: AgentConfig;
  readonly log: MemoryLogger;
  readonly prefix: string;
}

/**
 * The environment of a test agent (in this process or spawned): its own network prefix and slot
 * range from `net`, state in `wrennDir`, guest images from the shared cache, a free loopback port,
 * the namespace runtime, 16 slots with 1 pre-created. `extra` adds or overrides. @internal
 */
export async function agentTestEnv(
  net: NetConfig,
  wrennDir: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  return {
    WRENN_DIR: wrennDir,
    WRENN_CACHE_DIR: "/var/lib/wrenn",
    WRENN_HOST_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
    WRENN_RUNTIME: "namespace",
    WRENN_NET_PREFIX: net.prefix,
    WRENN_NET_SUBNET: net.subnet,
    WRENN_NET_FIRST_SLOT: String(net.firstSlot),
    WRENN_NET_SLOTS: "16",
    WRENN_NET_POOL: "1",
    ...extra,
  };
}

/**
 * Starts `startAgent` in this process with a random network prefix and a temp state dir
 * (guest images from the shared cache). Dispose shuts it down and checks that no netns,
 * veth, nft table, cgroup, mount or capsule directory of the run is left. @internal
 */
export async function startTestAgent(env: Record<string, string> = {}, args: string[] = []): Promise<TestAgent> {
  const net = testNetConfig();
  // A state dir given in `env` (an agent restarted on the same state) is left for its owner.
  const ownDir = env["WRENN_DIR"] === undefined;
  const wrennDir = env["WRENN_DIR"] ?? (await mkdtemp(join(tmpdir(), `${net.prefix}-agent-`)));
  const loaded = loadConfig(
    await agentTestEnv(net, wrennDir, {
      WRENN_NET_SLOTS: "24",
      WRENN_NET_POOL: "2",
      // No capsules launched ahead of time unless a test asks (WRENN_WARM_POOL in `env`).
      WRENN_WARM_POOL: "0",
      ...env,
    }),
    args,
  );
  if (loaded.kind !== "run") throw new Error("unreachable");
  const log = new MemoryLogger();
  const agent = await startAgent(loaded.config, log);
  const client = createClient(HostAgentService, createConnectTransport({ baseUrl: agent.url, httpVersion: "1.1" }));
  return {
    agent,
    client,
    config: loaded.config,
    log,
    prefix: net.prefix,
    async [Symbol.asyncDispose]() {
      const runner = new ExecFileRunner();
      try {
        await agent.shutdown("test done");
      } finally {
        for (const c of V1_CONTROLLERS) await rmdir(`/sys/fs/cgroup/${c}/${net.prefix}`).catch(() => undefined);
      }
      const mounted = readFileSync("/proc/self/mountinfo", "utf8").includes(wrennDir);
      const capsules = await readdir(join(wrennDir, "sandboxes"));
      const left = await ownedLeftovers(runner, net.prefix);
      if (!mounted && ownDir) await rm(wrennDir, { recursive: true, force: true });
      assert.equal(mounted, false, "no overlay left mounted");
      assert.deepEqual(capsules, [], "no capsule directory left");
      assert.deepEqual(left, [], "no netns, veth or nft table left");
    },
  };
}
