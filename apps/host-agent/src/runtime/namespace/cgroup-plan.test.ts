import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planCgroup } from "./cgroup-plan.js";

const limits = { memoryBytes: 256 * 1024 * 1024, cpus: 1.5, pidsMax: 512 };

describe("planCgroup", () => {
  it("plans cgroup v1: one directory per controller mount, limits, memsw after memory, freezer", () => {
    const mounts = {
      memory: "/cg/memory",
      cpu: "/cg/cpu,cpuacct",
      cpuacct: "/cg/cpu,cpuacct",
      pids: "/cg/pids",
      freezer: "/cg/freezer",
    };
    const p = planCgroup(1, "/cg", "wrenn", "sb1", limits, mounts);
    assert.deepEqual(p.dirs, [
      "/cg/memory/wrenn",
      "/cg/memory/wrenn/sb1",
      "/cg/cpu,cpuacct/wrenn",
      "/cg/cpu,cpuacct/wrenn/sb1",
      "/cg/pids/wrenn",
      "/cg/pids/wrenn/sb1",
      "/cg/freezer/wrenn",
      "/cg/freezer/wrenn/sb1",
    ]);
    assert.deepEqual(p.writes, [
      ["/cg/memory/wrenn/sb1/memory.limit_in_bytes", "268435456"],
      ["/cg/cpu,cpuacct/wrenn/sb1/cpu.cfs_period_us", "100000"],
      ["/cg/cpu,cpuacct/wrenn/sb1/cpu.cfs_quota_us", "150000"],
      ["/cg/pids/wrenn/sb1/pids.max", "512"],
    ]);
    assert.deepEqual(p.optionalWrites, [
      ["/cg/memory/wrenn/sb1/memory.memsw.limit_in_bytes", "268435456"],
      ["/cg/memory/wrenn/sb1/memory.swappiness", "0"],
    ]);
    assert.deepEqual(p.procsFiles, [
      "/cg/memory/wrenn/sb1/cgroup.procs",
      "/cg/cpu,cpuacct/wrenn/sb1/cgroup.procs",
      "/cg/pids/wrenn/sb1/cgroup.procs",
      "/cg/freezer/wrenn/sb1/cgroup.procs",
    ]);
    assert.equal(p.freezerDir, "/cg/freezer/wrenn/sb1");
    assert.equal(p.cpuDir, "/cg/cpu,cpuacct/wrenn/sb1");
    assert.deepEqual(p.removeDirs, [
      "/cg/memory/wrenn/sb1",
      "/cg/cpu,cpuacct/wrenn/sb1",
      "/cg/pids/wrenn/sb1",
      "/cg/freezer/wrenn/sb1",
    ]);
  });

  it("plans cgroup v2: controllers enabled on the ancestors, one leaf with every limit", () => {
    const p = planCgroup(2, "/cg", "wrenn", "sb1", limits);
    assert.deepEqual(p.dirs, ["/cg/wrenn", "/cg/wrenn/sb1"]);
    assert.deepEqual(p.writes, [
      ["/cg/cgroup.subtree_control", "+memory +cpu +pids"],
      ["/cg/wrenn/cgroup.subtree_control", "+memory +cpu +pids"],
      ["/cg/wrenn/sb1/memory.max", "268435456"],
      ["/cg/wrenn/sb1/cpu.max", "150000 100000"],
      ["/cg/wrenn/sb1/pids.max", "512"],
    ]);
    assert.deepEqual(p.optionalWrites, [["/cg/wrenn/sb1/memory.swap.max", "0"]]);
    assert.deepEqual(p.procsFiles, ["/cg/wrenn/sb1/cgroup.procs"]);
    assert.deepEqual(p.removeDirs, ["/cg/wrenn/sb1"]);
  });

  it("rejects names that would escape the cgroup tree", () => {
    for (const bad of ["..", "a/b", "", "-x"]) {
      assert.throws(() => planCgroup(2, "/cg", "wrenn", bad, limits), /invalid cgroup name/);
    }
  });
});
