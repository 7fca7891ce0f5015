/**
 * One set-up for the SandboxManager tests on real namespace capsules: the cached minimal
 * image, a NetnsNetwork and a NamespaceRuntime under this run's own prefix (netns names,
 * cgroup parent, state root), and a teardown that fails the test when anything is left.
 * @internal
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecFileRunner } from "../exec/command-runner.js";
import { type BuiltImage, buildImage, defaultImageSources } from "../images/image-builder.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { NetnsNetwork } from "../net/netns-network.js";
import { netnsSkipReason, ownedLeftovers, testNetConfig } from "../net/netns-test-helpers.js";
import { V1_CONTROLLERS } from "../runtime/namespace/cgroup-plan.js";
import { NamespaceRuntime, type NamespaceRuntimeOptions } from "../runtime/namespace/namespace-runtime.js";
import { SandboxManager } from "./sandbox-manager.js";
import { input } from "./sandbox-test-helpers.js";
import type { CreateSandboxInput, SandboxManagerOptions } from "./sandbox-types.js";

const runner = new ExecFileRunner();
const sources = defaultImageSources();

/** Why namespace capsules cannot run here (not root, no netns, no cached image, no envd), or false. @internal */
export const namespaceSkip: string | false =
  (await netnsSkipReason(runner)) ??
  (!existsSync("/var/lib/wrenn/images/minimal")
    ? "no cached minimal image under /var/lib/wrenn/images/minimal"
    : !existsSync(sources.envdBundle)
      ? "envd bundle missing (npm run build -w @wrenn/envd)"
      : false);

/** Options of {@link namespaceManager}. @internal */
export interface NamespaceManagerOptions {
  /** Names the state root (`<prefix>-<label>-…`). */
  readonly label: string;
  readonly runtime?: Omit<NamespaceRuntimeOptions, "cgroupParent" | "resolvConf">;
  readonly manager?: Omit<SandboxManagerOptions, "runtime" | "network" | "stateRoot" | "warmPool">;
  /** Warm pool size on the minimal image (launch shape 1 vCPU, 512 MiB). @default 0 (none) */
  readonly warmPool?: number;
}

/** A manager on real namespace capsules; dispose releases everything and asserts nothing is left. @internal */
export interface NamespaceManager extends AsyncDisposable {
  readonly mgr: SandboxManager;
  readonly network: NetnsNetwork;
  readonly runtime: NamespaceRuntime;
  readonly stateRoot: string;
  /** This run's prefix: capsule ids made by {@link NamespaceManager.input} start with it. */
  readonly prefix: string;
  readonly image: BuiltImage;
  /** A create input for `<prefix>-<name>` on the minimal image (template id "minimal"). */
  input(name: string, extra?: Partial<CreateSandboxInput>): CreateSandboxInput;
}

/** Builds a {@link NamespaceManager} (the image build is a cache hit once built). @internal */
export async function namespaceManager(o: NamespaceManagerOptions): Promise<NamespaceManager> {
  const config = testNetConfig();
  const { prefix } = config;
  const image = await buildImage({
    wrennDir: "/var/lib/wrenn",
    template: MINIMAL_TEMPLATE,
    sources,
    runner,
    ext4: true,
  });
  const stateRoot = await mkdtemp(join(tmpdir(), `${prefix}-${o.label}-`));
  const network = new NetnsNetwork(config, runner);
  let mgr: SandboxManager | undefined;
  let runtime: NamespaceRuntime | undefined;
  const teardown = async () => {
    try {
      await mgr?.[Symbol.asyncDispose]();
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
  };
  try {
    await network.start();
    runtime = new NamespaceRuntime({
      ...o.runtime,
      cgroupParent: prefix,
      // Capsules have no egress here: an unroutable documentation address keeps anything
      // inside from querying this machine's resolver.
      resolvConf: "nameserver 192.0.2.53\n",
    });
    const pool = o.warmPool ?? 0;
    mgr = new SandboxManager({
      ...o.manager,
      runtime,
      network,
      stateRoot,
      ...(pool > 0
        ? {
            warmPool: {
              size: pool,
              runtime,
              templateId: "minimal",
              image: { rootfsDir: image.rootfs },
              vcpus: 1,
              memoryMb: 512,
              diskMb: 1024,
            },
          }
        : {}),
    });
  } catch (err) {
    await teardown().catch(() => undefined); // the set-up error is the one to see
    throw err;
  }
  return {
    mgr,
    network,
    runtime,
    stateRoot,
    prefix,
    image,
    input: (name, extra = {}) =>
      input(`${prefix}-${name}`, { templateId: "minimal", image: { rootfsDir: image.rootfs }, ...extra }),
    [Symbol.asyncDispose]: teardown,
  };
}
