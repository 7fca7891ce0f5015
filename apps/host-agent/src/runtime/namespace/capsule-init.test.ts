import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CAPSULE_INIT_SCRIPT, planLaunch } from "./capsule-init.js";
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
      }),
      [
        "/bin/bash",
        "/s/capsule-init.sh",
        "host",
        "/run/netns/wrn-7",
        "/cg/memory/w/sb/cgroup.procs",
        "/cg/pids/w/sb/cgroup.procs",
        "--",
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
    assert.match(CAPSULE_INIT_SCRIPT, /mount --bind -o ro "\$R\/proc\/\$p"/);
  });
});

describe("capsuleHostname", () => {
  it("turns a sandbox id into a valid hostname", () => {
    assert.equal(capsuleHostname("Sb_ABC.1"), "sb-abc-1");
    assert.equal(capsuleHostname("___"), "capsule");
    assert.equal(capsuleHostname("x".repeat(80)).length, 63);
  });
});
