import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { NetnsNetwork } from "../net/netns-network.js";
import { netnsSkipReason, ownedLeftovers, testNetConfig } from "../net/netns-test-helpers.js";
import { V1_CONTROLLERS } from "../runtime/namespace/cgroup-plan.js";
import { NamespaceRuntime } from "../runtime/namespace/namespace-runtime.js";
import { SandboxManager } from "./sandbox-manager.js";
import { input } from "./sandbox-test-helpers.js";

const runner = new ExecFileRunner();
const sources = defaultImageSources();
const skip =
  (await netnsSkipReason(runner)) ??
  (!existsSync("/var/lib/wrenn/images/minimal")
    ? "no cached minimal image under /var/lib/wrenn/images/minimal"
    : !existsSync(sources.envdBundle)
      ? "envd bundle missing (npm run build -w @wrenn/envd)"
      : false);

describe("SandboxManager on NamespaceRuntime + NetnsNetwork (privileged)", { skip, timeout: 600_000 }, () => {
  it("create → pause → resume → destroy leaves nothing behind", async (t) => {
    const config = testNetConfig();
    const prefix = config.prefix;
    const image = await buildImage({
      wrennDir: "/var/lib/wrenn",
      template: MINIMAL_TEMPLATE,
      sources,
      runner,
      ext4: true,
    });
    const stateRoot = await mkdtemp(join(tmpdir(), `${prefix}-sbm-`));
    const network = new NetnsNetwork(config, runner);
    try {
      await network.start();
      const runtime = new NamespaceRuntime({ cgroupParent: prefix, resolvConf: "nameserver 192.0.2.53\n" });
      await using mgr = new SandboxManager({ runtime, network, stateRoot });
      const id = `${prefix}-sb1`;
      const t0 = Date.now();
      const rec = await mgr.create(input(id, { templateId: "minimal", image: { rootfsDir: image.rootfs } }));
      t.diagnostic(`create ${Date.now() - t0} ms`);
      const url = rec.envdUrl ?? "";
      assert.equal((await fetch(`${url}/health`)).status, 200);
      const p0 = Date.now();
      assert.equal((await mgr.pause(id)).pauseMode, "memory");
      t.diagnostic(`pause ${Date.now() - p0} ms`);
      const r0 = Date.now();
      assert.equal((await mgr.resume(id)).status, "running");
      t.diagnostic(`resume ${Date.now() - r0} ms`);
      const envs = (await (await fetch(`${url}/envs`)).json()) as Record<string, string>;
      assert.equal(envs["WRENN_TEMPLATE_ID"], "minimal");
      await mgr.destroy(id);
      assert.deepEqual(network.held(), []);
    } finally {
      await network[Symbol.asyncDispose]();
      for (const c of V1_CONTROLLERS) await rmdir(`/sys/fs/cgroup/${c}/${prefix}`).catch(() => undefined);
      const mounted = readFileSync("/proc/self/mountinfo", "utf8").includes(stateRoot);
      const leftInRoot = await readdir(stateRoot).catch(() => []);
      await rm(stateRoot, { recursive: true, force: true });
      assert.equal(mounted, false, "no overlay left mounted");
      assert.deepEqual(leftInRoot, [], "every capsule state dir removed");
      assert.deepEqual(await ownedLeftovers(runner, prefix), []);
      assert.deepEqual(
        V1_CONTROLLERS.filter((c) => existsSync(`/sys/fs/cgroup/${c}/${prefix}`)),
        [],
        "no cgroup of this run left",
      );
    }
  });
});
