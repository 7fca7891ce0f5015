import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CommandError } from "../exec/command-runner.js";
import { RecordingRunner } from "../exec/recording-runner.js";
import { applyPlan, probeFraction } from "./apply-plan.js";
import type { PlanStep } from "./plan.js";
import type { BuildProgress } from "./progress.js";

describe("applyPlan", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-apply-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const plan = (): PlanStep[] => [
    { kind: "run", phase: "bootstrap", label: "a", argv: ["step-a"], weight: 3, timeoutMs: 1000 },
    {
      kind: "write",
      phase: "user",
      label: "w",
      path: join(dir, "etc/sudoers.d/user"),
      content: "x\n",
      mode: 0o440,
      weight: 0,
    },
    {
      kind: "with-mount",
      phase: "packages",
      label: "m",
      mount: ["mount", "proc"],
      unmount: ["umount", "proc"],
      weight: 0,
      steps: [{ kind: "run", phase: "packages", label: "b", argv: ["step-b"], weight: 1, timeoutMs: 1000 }],
    },
    {
      kind: "run",
      phase: "cleanup",
      label: "c",
      argv: ["step-c"],
      weight: 0,
      timeoutMs: 1000,
      onlyIfExists: join(dir, "missing"),
    },
  ];

  it("runs commands in order, writes files with their exact mode and skips steps whose path is missing", async () => {
    const runner = new RecordingRunner();
    const seen: BuildProgress[] = [];
    await applyPlan(plan(), { runner, onProgress: (p) => seen.push(p) });
    assert.deepEqual(
      runner.calls.map((c) => c.argv),
      [["step-a"], ["mount", "proc"], ["step-b"], ["umount", "proc"]],
    );
    assert.equal(await readFile(join(dir, "etc/sudoers.d/user"), "utf8"), "x\n");
    assert.equal((await stat(join(dir, "etc/sudoers.d/user"))).mode & 0o777, 0o440);
    const last = seen.at(-1);
    assert.deepEqual([last?.done, last?.total, last?.percent], [5, 5, 100]);
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.percent ?? 0) >= (seen[i - 1]?.percent ?? 0));
  });

  it("unmounts even when a step inside the mount fails, and stops the plan", async () => {
    const runner = new RecordingRunner().when((a) => a[0] === "step-b", { exitCode: 100, stderr: "E: no network" });
    await assert.rejects(
      applyPlan(plan(), { runner }),
      (err: unknown) => err instanceof CommandError && /no network/.test(err.message),
    );
    assert.deepEqual(
      runner.calls.map((c) => c.argv[0]),
      ["step-a", "mount", "step-b", "umount"],
    );
  });

  it("does not run anything once the signal is aborted", async () => {
    const runner = new RecordingRunner();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(applyPlan(plan(), { runner, signal: ac.signal }));
    assert.equal(runner.calls.length, 0);
  });
});

describe("probeFraction", () => {
  const probes = [
    { dir: "/d", suffix: ".deb", expected: 10, share: 0.4 },
    { dir: "/i", suffix: ".list", expected: 10, share: 0.6 },
  ];
  it("weights each probe by its share, relative to the baseline, capped below 1", () => {
    assert.equal(probeFraction(probes, [0, 5], [5, 5]), 0.2);
    assert.equal(probeFraction(probes, [0, 5], [10, 10]), 0.4 + 0.3);
    assert.equal(probeFraction(probes, [0, 0], [50, 50]), 0.99);
  });
});
