/**
 * A host agent that registers with a real control plane: the agent's real
 * composition (`startAgent`, namespace runtime) in this process, started from
 * the same arguments an operator gives it (`--register <token>` with
 * `WRENN_CP_URL` and `--address`). The state directory, network prefix and
 * listen port belong to the home, not to one agent, so an agent can be
 * stopped and started again as the same host (from its saved
 * `host-credentials.json`).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, MemoryLogger } from "@wrenn/kit";
import { type Agent, startAgent } from "../apps/host-agent/src/agent/agent.js";
import { agentPaths, loadConfig } from "../apps/host-agent/src/config.js";
import { ExecFileRunner } from "../apps/host-agent/src/exec/command-runner.js";
import type { NetConfig } from "../apps/host-agent/src/net/net-config.js";
import { ownedLeftovers, testNetConfig } from "../apps/host-agent/src/net/netns-test-helpers.js";
import { V1_CONTROLLERS } from "../apps/host-agent/src/runtime/namespace/cgroup-plan.js";

/** A running agent of the home. */
export interface HomeAgent {
  readonly agent: Agent;
  readonly log: MemoryLogger;
}

/** State directory, network slots and address of one host, across agent restarts. Dispose removes it all. */
export class AgentHome implements AsyncDisposable {
  readonly wrennDir: string;
  readonly net: NetConfig;
  readonly port: number;
  #running: HomeAgent | undefined;

  private constructor(wrennDir: string, net: NetConfig, port: number) {
    this.wrennDir = wrennDir;
    this.net = net;
    this.port = port;
  }

  /** A fresh home: temp state dir, random network prefix, a free loopback port. */
  static async create(): Promise<AgentHome> {
    const net = testNetConfig();
    const wrennDir = await mkdtemp(join(tmpdir(), `${net.prefix}-home-`));
    return new AgentHome(wrennDir, net, await freePort());
  }

  /** `host:port` the agent listens on and advertises (its certificate's SAN). */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Where registration saves the credentials. */
  get credentialsPath(): string {
    return agentPaths({ wrennDir: this.wrennDir }).credentials;
  }

  /** The agent running now, if any. */
  get running(): HomeAgent | undefined {
    return this.#running;
  }

  /**
   * Starts an agent talking to the control plane at `cpUrl`: it registers
   * with `registerToken` when given, else reuses the saved credentials.
   */
  async start(cpUrl: string, registerToken?: string): Promise<HomeAgent> {
    assert.equal(this.#running, undefined, "one agent at a time");
    const loaded = loadConfig(
      {
        WRENN_DIR: this.wrennDir,
        WRENN_CACHE_DIR: "/var/lib/wrenn",
        WRENN_HOST_LISTEN_ADDR: this.address,
        WRENN_HOST_ADDRESS: this.address,
        WRENN_CP_URL: cpUrl,
        WRENN_RUNTIME: "namespace",
        WRENN_NET_PREFIX: this.net.prefix,
        WRENN_NET_SUBNET: this.net.subnet,
        WRENN_NET_FIRST_SLOT: String(this.net.firstSlot),
        WRENN_NET_SLOTS: "8",
        WRENN_NET_POOL: "1",
      },
      registerToken === undefined ? [] : ["--register", registerToken],
    );
    if (loaded.kind !== "run") throw new Error("unreachable: no --help given");
    const log = new MemoryLogger();
    this.#running = { agent: await startAgent(loaded.config, log), log };
    return this.#running;
  }

  /**
   * Stops the running agent (gracefully: it destroys its capsules) and checks
   * that nothing of it is left: no mount, capsule directory, netns, veth or
   * nft table of the prefix. The state directory stays.
   */
  async stop(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    this.#running = undefined;
    try {
      await running.agent.shutdown("test: agent stopped");
    } finally {
      for (const c of V1_CONTROLLERS) await rmdir(`/sys/fs/cgroup/${c}/${this.net.prefix}`).catch(() => undefined);
    }
    assert.equal(
      readFileSync("/proc/self/mountinfo", "utf8").includes(this.wrennDir),
      false,
      "no overlay left mounted",
    );
    assert.deepEqual(await readdir(join(this.wrennDir, "sandboxes")), [], "no capsule directory left");
    assert.deepEqual(
      await ownedLeftovers(new ExecFileRunner(), this.net.prefix),
      [],
      "no netns, veth or nft table left",
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.stop();
    } finally {
      if (!readFileSync("/proc/self/mountinfo", "utf8").includes(this.wrennDir)) {
        await rm(this.wrennDir, { recursive: true, force: true });
      }
    }
  }
}
