/**
 * A host agent assembled from its public parts for the benchmark, wired as the agent's own
 * startAgent does (apps/host-agent/src/agent/agent.ts): a network provider, a runtime, the
 * SandboxManager, the hostagent.v1 Connect service and the port proxy on the agent's
 * HTTP/1.1 server and its proxy thread (startAgentServer, plain HTTP on loopback), plus a
 * Connect client. Built
 * here rather than through startAgent so the benchmark can wrap the runtime (handles,
 * step timings) and keep its own network prefix, state root and cgroup parent.
 */
import { mkdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { type AgentServer, createRpcHandler, startAgentServer } from "../../apps/host-agent/src/agent/agent-server.js";
import { ExecFileRunner } from "../../apps/host-agent/src/exec/command-runner.js";
import type { BuiltImage } from "../../apps/host-agent/src/images/image-builder.js";
import { NetnsNetwork } from "../../apps/host-agent/src/net/netns-network.js";
import { PortProxy } from "../../apps/host-agent/src/proxy/index.js";
import { createHostAgentService } from "../../apps/host-agent/src/rpc/index.js";
import { withUnaryFastPath } from "../../apps/host-agent/src/rpc/unary-fast-path.js";
import {
  type NamespaceCreatePhase,
  NamespaceRuntime,
} from "../../apps/host-agent/src/runtime/namespace/namespace-runtime.js";
import { QemuRuntime } from "../../apps/host-agent/src/runtime/qemu/qemu-runtime.js";
import type { Runtime } from "../../apps/host-agent/src/runtime/runtime.js";
import { SandboxManager } from "../../apps/host-agent/src/sandboxes/sandbox-manager.js";
import type { LifecycleOp } from "../../apps/host-agent/src/sandboxes/step-timer.js";
import { BENCH_CGROUP_PARENT, BENCH_STATE_ROOT, benchNetConfig, wrennDir } from "./environment.js";
import type { StepLog } from "./lifecycle-steps.js";
import type { BenchRuntime } from "./options.js";
import { RecordingRuntime } from "./recording-runtime.js";

/** The agent's hostagent.v1 client. */
export type HostAgentClient = Client<typeof HostAgentService>;

/** One benchmark agent; dispose destroys every capsule, releases every slot, stops the server. */
export interface BenchAgent extends AsyncDisposable {
  readonly kind: BenchRuntime;
  readonly client: HostAgentClient;
  /** `http://127.0.0.1:<port>`: RPC and `/proxy/{id}/{port}/...` on the RPC event loop. */
  readonly baseUrl: string;
  /** `http://127.0.0.1:<port>`: the proxy thread's `/proxy/{id}/{port}/...` (what the control plane uses). */
  readonly proxyUrl: string;
  readonly manager: SandboxManager;
  readonly network: NetnsNetwork;
  /** The runtime, wrapped so the benchmark can reach each capsule's handle. */
  readonly runtime: RecordingRuntime;
  /** Parent of each capsule's state dir. */
  readonly stateRoot: string;
  readonly image: BuiltImage;
  /** The capsule's address on its slot (what the proxy forwards to). */
  guestIp(sandboxId: string): string;
  /** Waits until the slot pool holds at least `n` ready slots (so a timed create gets a pooled one). */
  poolReady(n: number, signal: AbortSignal): Promise<void>;
  /** Capsules a warm pool keeps once started (namespace only; 0: none). Creates of {@link WARM_TEMPLATE} claim them. */
  readonly warmPool: number;
  /**
   * Starts the warm pool (the create section does, and stops it with `manager.stopWarmPool()`
   * afterwards, so pause and density run without idle pooled capsules beside them).
   */
  startWarmPool(): void;
}

/**
 * Template id whose creates the bench agent's warm pool serves. Its image is the benchmark
 * image reached through a symlink: the same files (and page cache), but a path the pool
 * matches and every other template id does not, so only the creates that ask for the pool
 * get it and the rest (cold creates, pause, density) run exactly as without a pool.
 */
export const WARM_TEMPLATE = "minimal-warm";

/**
 * Starts an agent for `kind`; `steps` receives the manager's lifecycle steps and the namespace
 * runtime's create steps (source `runtime`).
 */
export async function startBenchAgent(
  kind: BenchRuntime,
  image: BuiltImage,
  steps?: StepLog,
  warmPool = kind === "namespace" ? 2 : 0,
): Promise<BenchAgent> {
  const runner = new ExecFileRunner();
  const stateRoot = join(BENCH_STATE_ROOT, kind);
  const warmRootfs = join(BENCH_STATE_ROOT, `${kind}-warm-rootfs`);
  const warmImage = { rootfsDir: warmRootfs };
  const network = new NetnsNetwork(benchNetConfig(kind), runner, kind === "qemu" ? { vmTap: {} } : {});
  let server: AgentServer | undefined;
  let manager: SandboxManager | undefined;
  const proxy = new PortProxy({
    // The agent's resolver (startAgent's): one map lookup per request, paused capsules answered 503.
    resolve: (id) => manager?.guestAddress(id),
  });
  try {
    await network.start();
    const inner: Runtime =
      kind === "namespace"
        ? new NamespaceRuntime({
            runner,
            cgroupParent: BENCH_CGROUP_PARENT,
            // Capsules have no egress here; an unroutable documentation address keeps
            // anything inside from querying this machine's resolver.
            resolvConf: "nameserver 192.0.2.53\n",
            ...(steps ? { onPhase: (p: NamespaceCreatePhase, ms: number) => steps.record("runtime", p, ms) } : {}),
          })
        : new QemuRuntime({ wrennDir: wrennDir(), runner });
    const availability = await inner.availability();
    if (!availability.available) throw new Error(`${kind} runtime unavailable: ${availability.reason}`);
    const runtime = new RecordingRuntime(inner);
    const pooled = kind === "namespace" && warmPool > 0;
    if (pooled) {
      await mkdir(BENCH_STATE_ROOT, { recursive: true, mode: 0o700 });
      await rm(warmRootfs, { force: true });
      await symlink(image.rootfs, warmRootfs);
    }
    const m = new SandboxManager({
      runtime,
      network,
      stateRoot,
      onDestroy: (id) => proxy.evict(id),

      ...(steps ? { onStep: (op: LifecycleOp, step: string, ms: number) => steps.record(op, step, ms) } : {}),
    });
    manager = m;
    const startWarmPool = () => {
      if (!pooled) return;
      m.startWarmPool({
        size: warmPool,
        // Its own runtime (same cgroup parent, no step reporting): the pool's background
        // launches stay out of the timed steps.
        runtime: new NamespaceRuntime({
          runner,
          cgroupParent: BENCH_CGROUP_PARENT,
          resolvConf: "nameserver 192.0.2.53\n",
        }),
        templateId: WARM_TEMPLATE,
        image: warmImage,
        vcpus: 1,
        memoryMb: 512,
        diskMb: 2048,
      });
    };
    const impl = createHostAgentService({
      manager: m,
      runtime,
      resolveImage: async (templateId) =>
        pooled && templateId === WARM_TEMPLATE
          ? warmImage
          : { rootfsDir: image.rootfs, ...(image.ext4 ? { ext4Path: image.ext4 } : {}) },
      dataDir: stateRoot,
      hostIp: "127.0.0.1",
    });
    const rpc = withUnaryFastPath(impl, createRpcHandler(impl));
    server = await startAgentServer({ host: "127.0.0.1", port: 0, proxyPort: 0, rpc, proxy });
    const baseUrl = server.url;
    const proxyUrl = server.proxyUrl;
    if (proxyUrl === undefined) throw new Error("the agent server started no proxy thread");
    const client = createClient(
      HostAgentService,
      createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
    );
    return {
      kind,
      client,
      baseUrl,
      proxyUrl,
      manager: m,
      network,
      runtime,
      stateRoot,
      image,
      warmPool: pooled ? warmPool : 0,
      startWarmPool,
      guestIp(id) {
        const slot = network.held().find((s) => s.sandboxId === id);
        if (!slot) throw new Error(`sandbox ${id} holds no slot`);
        return slot.guestIp;
      },
      async poolReady(n, signal) {
        const want = Math.min(n, benchNetConfig(kind).poolSize);
        while (network.poolReady < want) {
          signal.throwIfAborted();
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      [Symbol.asyncDispose]: () => stopAgent(server, manager, network, proxy),
    };
  } catch (err) {
    await stopAgent(server, manager, network, proxy).catch(() => undefined);
    throw err;
  }
}

async function stopAgent(
  server: AgentServer | undefined,
  manager: SandboxManager | undefined,
  network: NetnsNetwork,
  proxy: PortProxy,
): Promise<void> {
  const errors: unknown[] = [];
  await server?.closeAll();
  proxy.close();
  // Capsules first (they hold slots), then the slots, pool and nft table.
  for (const step of [() => manager?.[Symbol.asyncDispose](), () => network[Symbol.asyncDispose]()]) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, "stopping the benchmark agent failed");
}
