import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CAPSULE_INIT_SCRIPT, launcherArch, planLaunch } from "./capsule-init.js";
import { capsuleHostname } from "./namespace-runtime.js";

describe("planLaunch", () => {
  it("passes every value as its own argv element to the fixed script", () => {
    assert.deepEqual(
      planLaunch({
        scriptPath: "/s/capsule-init.sh",
        netnsPath: "/run/netns/wrn-7",
        cgroupProcs: ["/cg/memory/w/sb/cgroup.procs", "/cg/pids/w/sb/cgroup.procs"],
        rootDir: "/s/root",
        hostname: "sb; rm -rf /",
        tmpfsMiB: 256,
        init: ["/usr/local/bin/wrenn-init", "--forward-address", "10.211.0.30"],
        arch: "x64",
      }),
      [
        "/bin/bash",
        "/s/capsule-init.sh",
        "host",
        "/run/netns/wrn-7",
        "/cg/memory/w/sb/cgroup.procs",
        "/cg/pids/w/sb/cgroup.procs",
        "--",
        "x64",
        "/s/root",
        "sb; rm -rf /",
        "256m",
        "/usr/local/bin/wrenn-init",
        "--forward-address",
        "10.211.0.30",
      ],
    );
  });

  it("keeps the script free of interpolated values", () => {
    assert.doesNotMatch(CAPSULE_INIT_SCRIPT, /\$\{(?!fd##)/, "only the fixed fd-number expansion");
    assert.match(CAPSULE_INIT_SCRIPT, /\$BIND \| \$REMOUNT \| \$RDONLY/, "read-only /proc binds");
  });

  it("knows the system call numbers only of the architectures it names", () => {
    assert.equal(launcherArch("x64"), "x64");
    assert.equal(launcherArch("arm64"), "arm64");
    assert.equal(launcherArch("riscv64"), undefined);
  });

  // The inner stage is perl: a syntax error would only show when a capsule starts.
  it("the perl stage compiles, and refuses an architecture it has no numbers for", {
    skip: !existsSync("/usr/bin/perl"),
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "capsule-init-"));
    try {
      const script = join(dir, "capsule-init.sh");
      await writeFile(script, CAPSULE_INIT_SCRIPT);
      const check = spawnSync("/usr/bin/perl", ["-x", "-c", script], { encoding: "utf8" });
      assert.equal(check.status, 0, check.stderr);
      const run = spawnSync("/usr/bin/perl", ["-x", script, "inner", "sparc", "/nonexistent", "h", "1m", "/bin/true"], {
        encoding: "utf8",
      });
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, /unsupported architecture sparc/);
      const shell = spawnSync("/bin/sh", [script, "bogus"], { encoding: "utf8" });
      assert.equal(shell.status, 2);
      assert.match(shell.stderr, /usage/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("capsuleHostname", () => {
  it("turns a sandbox id into a valid hostname", () => {
    assert.equal(capsuleHostname("Sb_ABC.1"), "sb-abc-1");
    assert.equal(capsuleHostname("___"), "capsule");
    assert.equal(capsuleHostname("x".repeat(80)).length, 63);
  });
});
