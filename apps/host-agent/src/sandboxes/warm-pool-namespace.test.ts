import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { V1_CONTROLLERS } from "../runtime/namespace/cgroup-plan.js";
import { envdExec } from "../runtime/namespace/envd-exec.js";
import { namespaceManager, namespaceSkip } from "./namespace-manager-test-helpers.js";
import type { LifecycleOp } from "./step-timer.js";

/** Capsule cgroups of this run's prefix in every v1 hierarchy (this host uses cgroup v1). */
async function capsuleCgroups(prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for (const c of V1_CONTROLLERS) {
    for (const e of await readdir(`/sys/fs/cgroup/${c}/${prefix}`, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) names.add(e.name);
    }
  }
  return [...names].sort();
}

function cgroupFile(controller: string, prefix: string, name: string, file: string): string {
  return readFileSync(`/sys/fs/cgroup/${controller}/${prefix}/${name}/${file}`, "utf8").trim();
}

describe("warm pool on NamespaceRuntime + NetnsNetwork (privileged)", { skip: namespaceSkip, timeout: 600_000 }, () => {
  it("a claimed capsule takes the request's id, limits, env, user, token and template; the pool refills", async () => {
    const steps: string[] = [];
    await using ns = await namespaceManager({
      label: "wp",
      warmPool: 2,
      manager: { onStep: (op: LifecycleOp, step: string) => steps.push(`${op}/${step}`) },
    });
    const { mgr, prefix } = ns;
    await mgr.warmPool?.settled();
    assert.equal(mgr.warmPool?.ready ?? 0, 2);
    assert.deepEqual(mgr.list(), [], "pooled capsules are not listed");
    assert.deepEqual(await capsuleCgroups(prefix), ["pool.1", "pool.2"]);

    const req = ns.input("claimed", {
      templateId: "tpl-warm",
      vcpus: 2,
      memoryMb: 300,
      envVars: { FOO: "bar" },
      defaultUser: "user",
      accessToken: "tok-warm-1",
      allowEgress: true,
    });
    const rec = await mgr.create(req);
    assert.ok(steps.includes("create/warm pool claim"), steps.join());
    assert.ok(!steps.includes("create/runtime create"), "no launch for a claimed capsule");
    assert.deepEqual(
      mgr.list().map((r) => [r.id, r.status]),
      [[req.sandboxId, "running"]],
    );

    const url = rec.envdUrl ?? "";
    // Egress is on in its slot's nft set, as an acquire with allowEgress would have made it.
    const slot = ns.network.held().find((s) => url.includes(`//${s.guestIp}:`));
    assert.equal(slot?.egress, true);
    const seen = await envdExec(
      url,
      'hostname; cat /etc/hostname; grep -c "$(hostname)" /etc/hosts; id -un; echo $FOO $WRENN_SANDBOX_ID $WRENN_TEMPLATE_ID; ' +
        "cat /run/wrenn/.WRENN_TEMPLATE_ID; echo; df -m /dev/shm /run | awk 'NR>1 {print $2}'",
      { accessToken: "tok-warm-1" },
    );
    const host = req.sandboxId.toLowerCase();
    assert.equal(seen.exitCode, 0, seen.stderr);
    assert.deepEqual(seen.stdout.trim().split("\n"), [
      host,
      host,
      "1",
      "user",
      `bar ${req.sandboxId} tpl-warm`,
      "tpl-warm",
      "150",
      "150",
    ]);
    assert.equal((await fetch(`${url}/envs`)).status, 401, "without the token envd refuses");

    // Its own cgroup, renamed to the sandbox id (cgroup v1), holding the request's limits; the
    // pool refilled behind it.
    await mgr.warmPool?.settled();
    assert.equal(mgr.warmPool?.ready ?? 0, 2, "the pool refilled after the claim");
    assert.deepEqual(await capsuleCgroups(prefix), ["pool.2", "pool.3", req.sandboxId]);
    assert.equal(cgroupFile("memory", prefix, req.sandboxId, "memory.limit_in_bytes"), String(300 * 1024 * 1024));
    assert.equal(cgroupFile("cpu", prefix, req.sandboxId, "cpu.cfs_quota_us"), "200000");
    assert.notEqual(cgroupFile("pids", prefix, req.sandboxId, "cgroup.procs"), "", "the capsule's tasks are in it");
    const meta = JSON.parse(readFileSync(join(ns.stateRoot, req.sandboxId, "sandbox-meta.json"), "utf8"));
    assert.deepEqual(meta, { sandboxId: req.sandboxId, templateId: "tpl-warm" });

    // Metrics are sampled for it like for any capsule (under its new cgroup name).
    const usage = await (async () => {
      for (let i = 0; i < 100; i++) {
        const points = mgr.metrics(req.sandboxId).all();
        if (Object.values(points).some((p) => p.length > 0)) return points;
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    })();
    assert.ok(usage, "the sampler recorded usage of the claimed capsule");

    await mgr.destroy(req.sandboxId);
    assert.deepEqual(await capsuleCgroups(prefix), ["pool.2", "pool.3"]);
  });

  it("concurrent creates never share a capsule; past the pool and for other images they launch", async () => {
    const steps: string[] = [];
    await using ns = await namespaceManager({
      label: "wpc",
      warmPool: 2,
      manager: { onStep: (op: LifecycleOp, step: string) => steps.push(`${op}/${step}`) },
    });
    const { mgr } = ns;
    await mgr.warmPool?.settled();
    assert.equal(mgr.warmPool?.ready ?? 0, 2);
    // 1 GiB raises the pool's 512 MiB limits (memsw before memory), 256 MiB lowers them.
    const ids = ["c1", "c2", "c3"].map((n) => ns.input(n, { memoryMb: n === "c1" ? 1024 : 256 }));
    const recs = await Promise.all(ids.map((i) => mgr.create(i)));
    for (const i of ids) {
      const limit = cgroupFile("memory", ns.prefix, i.sandboxId, "memory.limit_in_bytes");
      assert.equal(limit, String(i.memoryMb * 1024 * 1024), i.sandboxId);
    }
    assert.equal(steps.filter((s) => s === "create/warm pool claim").length, 2);
    assert.equal(steps.filter((s) => s === "create/runtime create").length, 1, "the third launched");
    assert.equal(new Set(recs.map((r) => r.envdUrl)).size, 3, "three distinct capsules");
    for (const r of recs) {
      const out = await envdExec(r.envdUrl ?? "", "hostname");
      assert.equal(out.stdout.trim(), r.id.toLowerCase());
    }

    // Another image (the ext4 beside the tree marks it: not the pool's) is never served from it.
    await mgr.warmPool?.settled();
    const ready = mgr.warmPool?.ready ?? 0;
    steps.length = 0;
    const other = ns.input("other", { image: { rootfsDir: ns.image.rootfs, ext4Path: ns.image.ext4 ?? "/x.ext4" } });
    await mgr.create(other);
    assert.deepEqual(
      steps.filter((s) => s.includes("claim") || s.includes("runtime create")),
      ["create/runtime create"],
    );
    assert.equal(mgr.warmPool?.ready ?? 0, ready, "the pool was not touched");

    // Stopped, the pool destroys its ready capsules; the claimed ones and the rest stay.
    await mgr.stopWarmPool();
    assert.equal(mgr.warmPool, undefined);
    assert.deepEqual(await capsuleCgroups(ns.prefix), [...ids.map((i) => i.sandboxId), other.sandboxId].sort());
  });
});
