import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type AgentProcess, agentTestEnv, alive, cgroupProcs, spawnAgent } from "../agent/agent-test-helpers.js";
import { ExecFileRunner } from "../exec/command-runner.js";
import { NetnsNetwork } from "../net/netns-network.js";
import { ownedLeftovers, testNetConfig } from "../net/netns-test-helpers.js";
import { V1_CONTROLLERS } from "../runtime/namespace/cgroup-plan.js";
import { namespaceSkip } from "./namespace-manager-test-helpers.js";

const runner = new ExecFileRunner();

/** Resolves once the agent has logged `n` "capsule ready" lines of its warm pool. */
async function poolReadyLogged(a: AgentProcess, n: number, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  const count = () => a.output().split("warm pool: capsule ready").length - 1;
  while (count() < n) {
    if (Date.now() > end) throw new Error(`warm pool not filled in ${ms} ms:\n${a.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("warm pool in the agent process (privileged, namespace runtime)", {
  skip: namespaceSkip,
  timeout: 300_000,
}, () => {
  const net = testNetConfig();
  const prefix = net.prefix;
  let wrennDir = "";
  const env = async (warmPool: number) => {
    wrennDir ||= await mkdtemp(join(tmpdir(), `${prefix}-wpagent-`));
    return agentTestEnv(net, wrennDir, { WRENN_WARM_POOL: String(warmPool), LOG_LEVEL: "info" });
  };
  const mounted = () => wrennDir !== "" && readFileSync("/proc/self/mountinfo", "utf8").includes(wrennDir);
  const cgroups = async () => {
    const names = new Set<string>();
    for (const c of V1_CONTROLLERS) {
      for (const e of await readdir(`/sys/fs/cgroup/${c}/${prefix}`, { withFileTypes: true }).catch(() => [])) {
        if (e.isDirectory()) names.add(e.name);
      }
    }
    return [...names].sort();
  };
  const procs = (name: string) => cgroupProcs(`/sys/fs/cgroup/freezer/${prefix}/${name}`);
  const netns = async () => (await ownedLeftovers(runner, prefix)).filter((n) => n.startsWith(`${prefix}-`));

  after(async () => {
    // Whatever a failed test left: the cleanup a fresh agent would do, then the checks.
    await new NetnsNetwork({ ...net, poolSize: 0 }, runner)[Symbol.asyncDispose]().catch(() => undefined);
    for (const c of V1_CONTROLLERS) await rmdir(`/sys/fs/cgroup/${c}/${prefix}`).catch(() => undefined);
    const left = await ownedLeftovers(runner, prefix);
    const stillMounted = mounted();
    if (wrennDir && !stillMounted) await rm(wrennDir, { recursive: true, force: true });
    assert.deepEqual(left, [], "no netns, veth or nft table of the test prefix left");
    assert.equal(stillMounted, false);
  });

  it("a SIGKILLed agent's pooled and claimed capsules are removed by the next start", async () => {
    const a = await spawnAgent(await env(2));
    await poolReadyLogged(a, 2);
    const created = await a.client.createSandbox({ sandboxId: "sb-warm", templateName: "minimal", memoryMb: 256 });
    assert.equal(created.status, "running");
    assert.match(a.output(), /"poolId":"pool\.1","msg":"claimed a pooled capsule"/);
    await poolReadyLogged(a, 3); // the refill after the claim
    assert.deepEqual(await cgroups(), ["pool.2", "pool.3", "sb-warm"]);
    const pids = ["pool.2", "pool.3", "sb-warm"].flatMap(procs);
    assert.ok(pids.length >= 6, `capsule processes: ${pids.join(",")}`);
    assert.deepEqual(
      (await a.client.listSandboxes({})).sandboxes.map((s) => s.sandboxId),
      ["sb-warm"],
    );

    process.kill(a.pid, "SIGKILL");
    assert.equal((await a.exited).signal, "SIGKILL");
    assert.ok(pids.every(alive), "capsules outlive a killed agent");
    assert.equal(mounted(), true);

    await using b = await spawnAgent(await env(0));
    assert.deepEqual(pids.filter(alive), [], "every old capsule process is dead");
    assert.deepEqual(await cgroups(), [], "no capsule cgroup left");
    assert.equal(mounted(), false, "no overlay left");
    assert.deepEqual(await readdir(join(wrennDir, "sandboxes")), [], "no capsule directory left");
    assert.equal((await netns()).length, 1, "only the new agent's pooled slot");
    await b.client.terminate({});
    assert.deepEqual(await b.exited, { code: 0, signal: null });
  });

  it("Terminate destroys the pool's capsules with the others: nothing is left", async () => {
    const c = await spawnAgent(await env(2));
    await poolReadyLogged(c, 2);
    await c.client.createSandbox({ sandboxId: "sb-t", templateName: "minimal" });
    const pids = (await cgroups()).flatMap(procs);
    assert.ok(pids.length >= 4);
    await c.client.terminate({});
    assert.deepEqual(await c.exited, { code: 0, signal: null });
    assert.deepEqual(pids.filter(alive), []);
    assert.deepEqual(await cgroups(), []);
    assert.equal(mounted(), false);
    assert.deepEqual(await readdir(join(wrennDir, "sandboxes")), []);
    assert.deepEqual(await ownedLeftovers(runner, prefix), []);
    assert.equal(existsSync(join(wrennDir, "sandboxes", "pool.1")), false);
  });
});
