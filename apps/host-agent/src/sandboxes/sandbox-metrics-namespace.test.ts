import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { MetricPoint } from "../metrics/metrics-store.js";
import { envdExec } from "../runtime/namespace/envd-exec.js";
import { namespaceManager, namespaceSkip } from "./namespace-manager-test-helpers.js";
import { until } from "./sandbox-test-helpers.js";

const MiB = 1 << 20;

describe("capsule metrics on NamespaceRuntime (privileged)", { skip: namespaceSkip, timeout: 600_000 }, () => {
  it("memory, disk and CPU points follow what the capsule does; paused and destroyed capsules are not sampled", async (t) => {
    await using ns = await namespaceManager({
      label: "metrics",
      // A short disk interval so the test sees a write within a few samples.
      runtime: { diskIntervalMs: 200 },
      manager: { sampleIntervalMs: 200 },
    });
    const { mgr } = ns;
    const create = ns.input("m1");
    const id = create.sandboxId;
    const rec = await mgr.create(create);
    const url = rec.envdUrl ?? "";
    const upper = join(ns.stateRoot, id, "upper");
    const memcg = `/sys/fs/cgroup/memory/${ns.prefix}/${id}/memory.usage_in_bytes`;
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
  });
});
