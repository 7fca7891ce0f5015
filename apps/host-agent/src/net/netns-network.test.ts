import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rmdir } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ExecFileRunner, runChecked } from "../exec/command-runner.js";
import { NetnsNetwork } from "./netns-network.js";
import {
  createWan,
  egressElements,
  fetchFrom,
  fetchFromHost,
  netnsSkipReason,
  ownedLeftovers,
  removeDeadTestNetworks,
  startServerIn,
  testNetConfig,
  waitReachable,
} from "./netns-test-helpers.js";
import { networkContract } from "./network-contract.js";

const runner = new ExecFileRunner();
const skip = await netnsSkipReason(runner);
const config = { ...testNetConfig(), egressAllowList: ["198.51.100.0/24"] };
const wanNames = [`${config.prefix}-wan`, `${config.prefix}w0`];

/** Everything this run may have created, including the simulated internet. */
async function everythingLeft(): Promise<string[]> {
  const netns = (await runner.run(["ip", "netns", "list"])).stdout;
  const links = (await runner.run(["ip", "-o", "link", "show"])).stdout;
  const wan = wanNames.filter((n) => netns.includes(n) || links.includes(`${n}@`) || links.includes(`${n}:`));
  return [...(await ownedLeftovers(runner, config.prefix)), ...wan];
}

if (skip) {
  test("NetnsNetwork (real namespaces)", { skip }, () => {});
} else {
  before(async () => {
    // A fresh random prefix, but a previous aborted run with the same one is still cleaned.
    await new NetnsNetwork(config, runner).cleanupLeftovers();
  });
  after(async () => {
    assert.deepEqual(await everythingLeft(), [], "ip netns list / ip link / nft list tables show nothing of this run");
  });

  networkContract("NetnsNetwork", () => ({
    config,
    make: (c) => new NetnsNetwork(c, runner),
    leftovers: () => ownedLeftovers(runner, config.prefix),
    egressSet: () => egressElements(runner, config.prefix),
  }));

  test("NetnsNetwork: host reaches capsules; capsules reach neither each other nor the host; egress is NAT'd and switchable", async (t) => {
    await using wan = await createWan(runner, config.prefix);
    const provider = new NetnsNetwork({ ...config, uplinkInterfaces: [wan.link] }, runner);
    // Guard rules (egress only to the simulated internet) are in place before any server runs.
    await provider.start();
    await using _provider = provider;
    await using a = await provider.acquire("sb-a", { allowEgress: true });
    await using b = await provider.acquire("sb-b", { allowEgress: false });
    await using sa = startServerIn(a.name, a.guestIp, 8080);
    await using sb = startServerIn(b.name, b.guestIp, 8080);
    await using sw = startServerIn(wan.ns, "198.51.100.10", 8080);
    await Promise.all([sa.ready, sb.ready, sw.ready]);
    const hostSide = createServer((_q, s) => s.end("host service"));
    await new Promise<void>((r) => hostSide.listen(0, a.hostIp, r));
    t.after(() => new Promise<void>((r) => hostSide.close(() => r())));
    const hostPort = (hostSide.address() as AddressInfo).port;

    // Positive controls: every server is up (seen from the host).
    assert.equal(await waitReachable(`http://${a.guestIp}:8080/`), a.hostIp, "host → A; A sees the host end");
    await waitReachable(`http://${b.guestIp}:8080/`);
    await waitReachable("http://198.51.100.10:8080/");
    assert.equal(await fetchFromHost(`http://${a.hostIp}:${hostPort}/`), "host service");

    assert.equal(await fetchFrom(a.name, `http://${b.guestIp}:8080/`), undefined, "A must not reach B");
    assert.equal(await fetchFrom(b.name, `http://${a.guestIp}:8080/`), undefined, "B must not reach A");
    assert.equal(await fetchFrom(a.name, `http://${a.hostIp}:${hostPort}/`), undefined, "A must not reach the host");
    assert.equal(await fetchFrom(a.name, `http://${b.hostIp}:${hostPort}/`), undefined, "nor the host via B's gateway");
    assert.equal(await fetchFrom(a.name, `http://${a.guestIp}:8080/`), a.guestIp, "A reaches itself");

    assert.equal(await fetchFrom(a.name, "http://198.51.100.10:8080/"), "198.51.100.1", "egress, masqueraded");
    assert.equal(await fetchFrom(b.name, "http://198.51.100.10:8080/"), undefined, "B has egress off");
    await provider.setEgress(a, false);
    assert.equal(await fetchFrom(a.name, "http://198.51.100.10:8080/"), undefined, "A after egress off");
    await provider.setEgress(b, true);
    assert.equal(await fetchFrom(b.name, "http://198.51.100.10:8080/"), "198.51.100.1", "B after egress on");
  });

  test("NetnsNetwork: timings (median of 10)", async (t) => {
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const measure = async (poolSize: number, allowEgress: boolean) => {
      const p = new NetnsNetwork({ ...config, poolSize }, runner);
      await p.start();
      const acquire: number[] = [];
      const release: number[] = [];
      try {
        for (let i = 0; i < 10; i++) {
          // Let the background refill finish so each pooled acquire really hits the pool.
          while (poolSize > 0 && p.poolReady < poolSize) await new Promise((r) => setTimeout(r, 5));
          let t0 = performance.now();
          const s = await p.acquire(`sb-${i}`, { allowEgress });
          acquire.push(performance.now() - t0);
          t0 = performance.now();
          await s[Symbol.asyncDispose]();
          release.push(performance.now() - t0);
        }
      } finally {
        await p[Symbol.asyncDispose]();
      }
      return { acquire: median(acquire), release: median(release) };
    };
    const pooled = await measure(2, false);
    const pooledEgress = await measure(2, true);
    const fresh = await measure(0, false);
    const f = (n: number) => `${n.toFixed(2)} ms`;
    t.diagnostic(`acquire from pool: ${f(pooled.acquire)} (egress on: ${f(pooledEgress.acquire)})`);
    t.diagnostic(`acquire without pool: ${f(fresh.acquire)}`);
    t.diagnostic(`release: ${f(fresh.release)} (egress on: ${f(pooledEgress.release)})`);
    assert.ok(pooled.acquire < fresh.acquire, "the pool makes acquire faster");
  });
}

if (!skip) {
  test("NetnsNetwork with a VM TAP: tap0 (txqueuelen 5000) and the DNAT table live inside the namespace", async () => {
    const provider = new NetnsNetwork({ ...config, poolSize: 1 }, runner, { vmTap: {} });
    await provider.start();
    await using _provider = provider;
    await using s = await provider.acquire("sb-vm", { allowEgress: false });
    const tap = await runner.run(["ip", "-n", s.name, "-o", "link", "show", "tap0"]);
    assert.match(tap.stdout, /qlen 5000/);
    const addr = await runner.run(["ip", "-n", s.name, "-o", "-4", "addr", "show", "tap0"]);
    assert.match(addr.stdout, /inet 169\.254\.0\.22\/30/);
    const rules = await runner.run(["ip", "netns", "exec", s.name, "nft", "list", "table", "ip", "vm"]);
    assert.match(rules.stdout, new RegExp(`ip daddr ${s.guestIp.replaceAll(".", "\\.")} dnat to 169\\.254\\.0\\.21`));
  });
}

test("a killed run's test networks and cgroups are swept by the next run; live runs' names stay", {
  skip,
}, async () => {
  // A pid that existed and is gone: a reaped child.
  const dead = `t${(spawnSync("true").pid ?? 1).toString(36)}x0`;
  const live = `t${process.pid.toString(36)}xz`;
  const make = async (prefix: string) => {
    await runChecked(runner, ["ip", "netns", "add", `${prefix}-7`]);
    await runChecked(runner, ["ip", "netns", "add", `${prefix}-wan`]);
    await runChecked(runner, [
      "ip",
      "link",
      "add",
      `${prefix}h7`,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      `${prefix}-7`,
    ]);
    await runChecked(runner, ["nft", "add", "table", "inet", prefix]);
  };
  const names = async (prefix: string) => {
    const ns = (await runner.run(["ip", "netns", "list"])).stdout;
    const links = (await runner.run(["ip", "-o", "link", "show"])).stdout;
    const tables = (await runner.run(["nft", "list", "tables"])).stdout;
    return [
      ...[`${prefix}-7`, `${prefix}-wan`].filter((n) => new RegExp(`^${n}\\b`, "m").test(ns)),
      ...(new RegExp(`: ${prefix}h7[:@]`).test(links) ? [`${prefix}h7`] : []),
      ...(tables.includes(`table inet ${prefix}`) ? [prefix] : []),
    ];
  };
  // Tests name their capsules' cgroup parent after the prefix too (v2: the root hierarchy; v1: memory).
  const hierarchy = existsSync("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
  await make(dead);
  await make(live);
  for (const prefix of [dead, live]) await mkdir(join(hierarchy, prefix, "capsule"), { recursive: true });
  try {
    assert.equal((await names(dead)).length, 4);
    const swept = await removeDeadTestNetworks(runner);
    assert.ok(swept.includes(dead), `swept ${swept.join(",")}`);
    assert.ok(!swept.includes(live));
    assert.deepEqual(await names(dead), []);
    assert.deepEqual(await names(live), [`${live}-7`, `${live}-wan`, `${live}h7`, live]);
    assert.equal(existsSync(join(hierarchy, dead)), false);
    assert.equal(existsSync(join(hierarchy, live, "capsule")), true);
  } finally {
    await rmdir(join(hierarchy, live, "capsule")).catch(() => undefined);
    await rmdir(join(hierarchy, live)).catch(() => undefined);
    for (const prefix of [dead, live]) {
      await runner.run(["ip", "netns", "delete", `${prefix}-7`]);
      await runner.run(["ip", "netns", "delete", `${prefix}-wan`]);
      await runner.run(["ip", "link", "delete", `${prefix}h7`]);
      await runner.run(["nft", "delete", "table", "inet", prefix]);
    }
  }
});
