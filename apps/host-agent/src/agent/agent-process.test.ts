import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { NetnsNetwork } from "../net/netns-network.js";
import { netnsSkipReason, ownedLeftovers, testNetConfig } from "../net/netns-test-helpers.js";
import { V1_CONTROLLERS } from "../runtime/namespace/cgroup-plan.js";
import { agentTestEnv, alive, cgroupProcs, runAgentOnce, spawnAgent } from "./agent-test-helpers.js";

const runner = new ExecFileRunner();
const skip =
  (await netnsSkipReason(runner)) ??
  (!existsSync("/var/lib/wrenn/images/minimal")
    ? "no cached minimal image under /var/lib/wrenn/images/minimal"
    : !existsSync(defaultImageSources().envdBundle)
      ? "envd bundle missing (npm run build -w @wrenn/envd)"
      : false);

describe("wrenn agent: command line", () => {
  it("--help prints the options; bad configuration exits 2 with a clear message", async () => {
    const help = await runAgentOnce({}, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: wrenn agent \[options\]/);
    const bad = await runAgentOnce({ WRENN_RUNTIME: "docker" }, []);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /runtime must be one of auto, namespace, qemu, firecracker/);
  });
});

describe("wrenn agent process (privileged, namespace runtime)", { skip, timeout: 240_000 }, () => {
  const net = testNetConfig();
  const prefix = net.prefix;
  let wrennDir = "";
  const env = async () => {
    wrennDir ||= await mkdtemp(join(tmpdir(), `${prefix}-agent-`));
    // These tests count capsule directories and slots; the warm pool has its own tests.
    return agentTestEnv(net, wrennDir, { WRENN_WARM_POOL: "0", LOG_LEVEL: "info" });
  };
  const mounted = () => readFileSync("/proc/self/mountinfo", "utf8").includes(wrennDir);
  const cg = (id: string) => `/sys/fs/cgroup/freezer/${prefix}/${id}`;
  const netns = async () => (await ownedLeftovers(runner, prefix)).filter((n) => n.startsWith(`${prefix}-`));

  before(async () => {
    // Built (or found) here, so the agents' start finds it cached even after envd changed.
    await buildImage({
      wrennDir: "/var/lib/wrenn",
      template: MINIMAL_TEMPLATE,
      sources: defaultImageSources(),
      runner,
    });
  });

  after(async () => {
    // Whatever a failed test left: the same cleanup a fresh agent would do, then the checks.
    await new NetnsNetwork({ ...net, poolSize: 0 }, runner)[Symbol.asyncDispose]().catch(() => undefined);
    for (const c of V1_CONTROLLERS) await rmdir(`/sys/fs/cgroup/${c}/${prefix}`).catch(() => undefined);
    const left = await ownedLeftovers(runner, prefix);
    const stillMounted = wrennDir !== "" && mounted();
    if (wrennDir && !stillMounted) await rm(wrennDir, { recursive: true, force: true });
    assert.deepEqual(left, [], "no netns, veth or nft table of the test prefix left");
    assert.equal(stillMounted, false);
  });

  it("a SIGKILLed agent's capsules are cleaned up by the next agent; Terminate stops it with nothing left", async (t) => {
    const e = await env();
    const a = await spawnAgent(e);
    await a.client.createSandbox({ sandboxId: "sb-left1", templateName: "minimal", memoryMb: 256 });
    await a.client.createSandbox({ sandboxId: "sb-left2", templateName: "minimal", memoryMb: 256 });
    await a.client.pauseSandbox({ sandboxId: "sb-left2" }); // a frozen cgroup is the harder leftover
    const pids = [...cgroupProcs(cg("sb-left1")), ...cgroupProcs(cg("sb-left2"))];
    assert.ok(pids.length >= 4, `capsule processes: ${pids.join(",")}`);
    process.kill(a.pid, "SIGKILL");
    assert.equal((await a.exited).signal, "SIGKILL");
    // The crash really left things behind: processes, overlays, slots, state.
    assert.ok(pids.every(alive), "capsules outlive a killed agent");
    assert.equal(mounted(), true);
    assert.ok((await netns()).length >= 3);
    assert.deepEqual((await readdir(join(wrennDir, "sandboxes"))).sort(), ["sb-left1", "sb-left2"]);

    const t0 = performance.now();
    await using b = await spawnAgent(e);
    t.diagnostic(`second agent ready (with cleanup) in ${(performance.now() - t0).toFixed(0)} ms`);
    assert.deepEqual(pids.filter(alive), [], "every old capsule process is dead");
    assert.equal(existsSync(cg("sb-left1")) || existsSync(cg("sb-left2")), false, "old cgroups removed");
    assert.equal(mounted(), false, "old overlays unmounted");
    assert.deepEqual(await readdir(join(wrennDir, "sandboxes")), [], "old capsule directories removed");
    assert.equal((await netns()).length, 1, "only the new agent's pooled slot");
    assert.deepEqual((await b.client.listSandboxes({})).sandboxes, []);
    assert.match(b.output(), /removed what a previous agent left/);

    const info = await b.client.getHostInfo({});
    assert.equal(info.runtime, "namespace");
    assert.match(info.runtimeReason, /namespace \(forced\)/);
    const created = await b.client.createSandbox({ sandboxId: "sb-new", templateName: "minimal", memoryMb: 256 });
    assert.equal(created.status, "running");
    const newPids = cgroupProcs(cg("sb-new"));
    await b.client.terminate({});
    assert.deepEqual(await b.exited, { code: 0, signal: null });
    assert.deepEqual(newPids.filter(alive), []);
    assert.deepEqual(await ownedLeftovers(runner, prefix), [], "Terminate removed slots, pool and nft table");
    assert.equal(mounted(), false);
    assert.deepEqual(await readdir(join(wrennDir, "sandboxes")), []);
    assert.match(b.output(), /"reason":"Terminate RPC","msg":"host agent stopped"/);
  });

  it("SIGTERM stops gracefully: capsules destroyed, exit status 0", async () => {
    const c = await spawnAgent(await env());
    await c.client.createSandbox({ sandboxId: "sb-term", templateName: "minimal", memoryMb: 256 });
    const pids = cgroupProcs(cg("sb-term"));
    assert.ok(pids.length >= 2);
    c.child.kill("SIGTERM");
    assert.deepEqual(await c.exited, { code: 0, signal: null });
    assert.deepEqual(pids.filter(alive), []);
    assert.equal(existsSync(cg("sb-term")), false);
    assert.deepEqual(await ownedLeftovers(runner, prefix), []);
    assert.equal(mounted(), false);
  });
});
