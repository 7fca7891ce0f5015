import assert from "node:assert/strict";
import { test } from "node:test";
import { benchPlan, parseBenchArgs, UsageError } from "./options.js";

test("defaults: full mode, both runtimes (namespace first), 100 capsules, 6 VMs", () => {
  assert.deepEqual(parseBenchArgs([]), {
    quick: false,
    runtimes: ["namespace", "qemu"],
    capsules: 100,
    vms: 6,
    ramp: 0,
    densityOnly: false,
    lifecycleOnly: false,
    restoreOnly: false,
    help: false,
  });
});

test("--quick lowers the fleet sizes; explicit sizes and one runtime are honoured", () => {
  const q = parseBenchArgs(["--quick"]);
  assert.deepEqual([q.capsules, q.vms], [50, 3]);
  const o = parseBenchArgs(["--quick", "--runtime", "qemu", "--capsules", "7", "--vms", "2"]);
  assert.deepEqual([o.runtimes, o.capsules, o.vms], [["qemu"], 7, 2]);
  assert.deepEqual(parseBenchArgs(["--runtime=namespace"]).runtimes, ["namespace"]);
  assert.equal(parseBenchArgs(["-h"]).help, true);
  const d = parseBenchArgs(["--density-only", "--ramp", "600"]);
  assert.deepEqual([d.densityOnly, d.ramp], [true, 600]);
  assert.equal(parseBenchArgs(["--lifecycle-only"]).lifecycleOnly, true);
  const r = parseBenchArgs(["--restore-only"]);
  assert.deepEqual([r.restoreOnly, r.runtimes], [true, ["qemu"]]);
});

test("bad arguments are UsageErrors that name the problem", () => {
  const bad: [string[], RegExp][] = [
    [["--runtime", "firecracker"], /namespace, qemu or all/],
    [["--capsules", "0"], /between 1 and/],
    [["--capsules", "5x"], /whole number/],
    [["--vms", "-3"], /vms/],
    [["--vms", "41"], /between 1 and 40/],
    [["--fast"], /fast/],
    [["extra"], /extra/],
    [["--density-only", "--lifecycle-only"], /exclude each other/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(
      () => parseBenchArgs(argv),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      argv.join(" "),
    );
  }
});

test("the quick plan does less of everything than the full one", () => {
  const q = benchPlan(true);
  const f = benchPlan(false);
  assert.ok(q.createRuns.namespace < f.createRuns.namespace && q.createRuns.qemu < f.createRuns.qemu);
  assert.ok(q.pauseCycles.namespace < f.pauseCycles.namespace);
  assert.ok(q.downloadBytes < f.downloadBytes && q.smallRequests < f.smallRequests);
  assert.ok(q.keystrokeBudgetMs < f.keystrokeBudgetMs && q.idleSeconds < f.idleSeconds);
});
