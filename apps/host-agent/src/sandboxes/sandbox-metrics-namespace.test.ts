import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import type { MetricPoint } from "../metrics/metrics-store.js";
import { NetnsNetwork } from "../net/netns-network.js";
import { netnsSkipReason, ownedLeftovers, testNetConfig } from "../net/netns-test-helpers.js";
import { V1_CONTROLLERS } from "../runtime/namespace/cgroup-plan.js";
import { envdExec } from "../runtime/namespace/envd-exec.js";
import { NamespaceRuntime } from "../runtime/namespace/namespace-runtime.js";
import { SandboxManager } from "./sandbox-manager.js";
import { input, until } from "./sandbox-test-helpers.js";

const runner = new ExecFileRunner();
const sources = defaultImageSources();
const skip =
  (await netnsSkipReason(runner)) ??
  (!existsSync("/var/lib/wrenn/images/minimal")
    ? "no cached minimal image under /var/lib/wrenn/images/minimal"
    : !existsSync(sources.envdBundle)
      ? "envd bundle missing (npm run build -w @wrenn/envd)"
      : false);

const MiB = 1 << 20;

describe("capsule metrics on NamespaceRuntime (privileged)", { skip, timeout: 600_000 }, () => {
  it("memory, disk and CPU points follow what the capsule does; paused and destroyed capsules are not sampled", async (t) => {
    const config = testNetConfig();
    const prefix = config.prefix;
    const image = await buildImage({
      wrennDir: "/var/lib/wrenn",
      template: MINIMAL_TEMPLATE,
      sources,
      runner,
      ext4: true,
    });
    const stateRoot = await mkdtemp(join(tmpdir(), `${prefix}-metrics-`));
    const network = new NetnsNetwork(config, runner);
    try {
      await network.start();
      const runtime = new NamespaceRuntime({
        cgroupParent: prefix,
        resolvConf: "nameserver 192.0.2.53\n",
        // A short disk interval so the test sees a write within a few samples.
        diskIntervalMs: 200,
      });
      await using mgr = new SandboxManager({ runtime, network, stateRoot, sampleIntervalMs: 200 });
      const id = `${prefix}-m1`;
      const rec = await mgr.create(input(id, { templateId: "minimal", image: { rootfsDir: image.rootfs } }));
      const url = rec.envdUrl ?? "";
      const upper = join(stateRoot, id, "upper");
      const memcg = `/sys/fs/cgroup/memory/${prefix}/${id}/memory.usage_in_bytes`;
      const points = () => mgr.metrics(id).query("5m", Date.now());
      const latest = (): MetricPoint | undefined => points().at(-1);
      const newPoint = async (after: number, check: (p: MetricPoint) => boolean) =>
        until(() => {
          const p = latest();
          return p !== undefined && p.timestampMs > after && check(p);
        }, 20_000);

      assert.ok(await newPoint(0, () => true), "a first point");
      const before = latest();
      assert.ok(before);
      t.diagnostic(`idle: ${JSON.stringify(before)}`);

      // Disk: a 24 MiB file lands in the writable layer; the metric is that layer's size.
      const wrote = await envdExec(url, "head -c 25165824 /dev/zero > /root/blob && sync");
      assert.equal(wrote.exitCode, 0, wrote.stderr);
      const duNow = () => Number(execFileSync("du", ["-sb", upper], { encoding: "utf8" }).split("\t")[0]);
      assert.ok(
        await newPoint(Date.now(), (p) => p.diskBytes >= before.diskBytes + 24 * MiB),
        `disk never grew by 24 MiB: ${JSON.stringify(latest())}`,
      );
      assert.ok(
        await newPoint(Date.now(), (p) => p.diskBytes === duNow()),
        `disk ${latest()?.diskBytes} is not du -sb ${duNow()}`,
      );

      // Memory: a process holding 96 MiB of touched anonymous memory; the metric is the memcg's usage.
      const memBefore = latest()?.memBytes ?? 0;
      const hog = await envdExec(
        url,
        "setsid python3 -c 'import time; b = bytearray(96 << 20); time.sleep(600)' > /dev/null 2>&1 < /dev/null &",
      );
      assert.equal(hog.exitCode, 0, hog.stderr);
      assert.ok(
        await newPoint(Date.now(), (p) => p.memBytes >= memBefore + 90 * MiB),
        `memory never grew by 96 MiB: before ${memBefore}, now ${JSON.stringify(latest())}`,
      );
      const cg = Number(readFileSync(memcg, "utf8"));
      const mem = latest()?.memBytes ?? 0;
      assert.ok(Math.abs(mem - cg) < 16 * MiB, `sampled ${mem} vs memcg ${cg}`);

      // CPU: a busy loop on the capsule's one vCPU shows up as a high percentage.
      const busyFrom = Date.now();
      const busy = await envdExec(url, "timeout 3 sh -c 'while :; do :; done'; true", { timeoutMs: 20_000 });
      assert.equal(busy.exitCode, 0, busy.stderr);
      await newPoint(Date.now(), () => true);
      const peak = Math.max(
        ...points()
          .filter((p) => p.timestampMs >= busyFrom - 1000)
          .map((p) => p.cpuPct),
      );
      t.diagnostic(`busy loop peak ${peak.toFixed(1)} %, idle ${before.cpuPct.toFixed(1)} %`);
      assert.ok(peak > 25, `a busy loop peaked at ${peak} % of the capsule's vCPU`);

      // Paused: no new points.
      await mgr.pause(id);
      const frozenAt = latest()?.timestampMs ?? 0;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(latest()?.timestampMs, frozenAt, "no point while paused");
      await mgr.resume(id);
      assert.ok(await newPoint(frozenAt, () => true), "sampling again after resume");
      await mgr.destroy(id);
    } finally {
      await network[Symbol.asyncDispose]();
      for (const c of V1_CONTROLLERS) await rmdir(`/sys/fs/cgroup/${c}/${prefix}`).catch(() => undefined);
      const mounted = readFileSync("/proc/self/mountinfo", "utf8").includes(stateRoot);
      await rm(stateRoot, { recursive: true, force: true });
      assert.equal(mounted, false, "no overlay left mounted");
      assert.deepEqual(await ownedLeftovers(runner, prefix), []);
    }
  });
});
