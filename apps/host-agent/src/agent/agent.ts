/**
 * The running host agent: composes the runtime, network, capsule manager, port proxy,
 * hostagent.v1 service, server and control-plane registration from one AgentConfig.
 *
 * Child processes and reaping. Node cannot make itself a subreaper (no prctl), and it does
 * not need to: every process the agent starts is its direct child (exec chains keep the PID:
 * bash → nsenter → unshare for a capsule launcher, nsenter → qemu), which libuv reaps. A
 * capsule's own descendants are reaped inside the capsule by its PID 1 (tini), which dies
 * with its launcher (`unshare --kill-child`); QEMU reaps its migration helpers itself. After
 * an agent crash the orphaned launchers and QEMUs belong to the host's init: the next agent
 * kills them (cgroups, PID files) at start and the init reaps them.
 */
import { mkdir, readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { AsyncDisposableStore, type Logger, PlatformError } from "@wrenn/kit";
import { type AgentConfig, agentPaths } from "../config.js";
import { ExecFileRunner } from "../exec/command-runner.js";
import { PidFiles } from "../exec/pid-files.js";
import { MINIMAL_TEMPLATE } from "../images/template.js";
import { NetnsNetwork } from "../net/netns-network.js";
import { PortProxy } from "../proxy/port-proxy.js";
import type { HostAgentDeps } from "../rpc/context.js";
import { createFileHttpHandler } from "../rpc/files-http.js";
import { createHostAgentService } from "../rpc/hostagent-service.js";
import { withUnaryFastPath } from "../rpc/unary-fast-path.js";
import { FirecrackerRuntime, kvmUsable } from "../runtime/firecracker/fc-runtime.js";
import { NamespaceRuntime } from "../runtime/namespace/namespace-runtime.js";
import { QemuRuntime } from "../runtime/qemu/qemu-runtime.js";
import type { Runtime } from "../runtime/runtime.js";
import { SandboxManager } from "../sandboxes/sandbox-manager.js";
import { TemplateStore } from "../templates/template-store.js";
import { type AgentServer, createRpcHandler, startAgentServer, type TlsMaterial } from "./agent-server.js";
import { ImageResolver } from "./image-resolver.js";
import { cleanupLeftovers } from "./leftovers.js";
import { startRegistration } from "./registration-setup.js";
import { chooseRuntime } from "./runtime-choice.js";

/** A started agent. */
export interface Agent {
  /** `http(s)://host:port` it serves on. */
  readonly url: string;
  readonly runtime: { readonly kind: Runtime["kind"]; readonly reason: string };
  readonly manager: SandboxManager;
  /** Resolves with the reason once the agent has stopped (signal, Terminate, host deleted). */
  readonly stopped: Promise<string>;
  /** Graceful stop: no new connections, every capsule destroyed, everything closed. Idempotent. */
  shutdown(reason: string): Promise<string>;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

async function readTlsFiles(config: AgentConfig): Promise<TlsMaterial | undefined> {
  if (!config.tls) return undefined;
  const [cert, key, ca] = await Promise.all(
    [config.tls.certFile, config.tls.keyFile, config.tls.caFile].map((f) =>
      readFile(f, "utf8").catch((err: unknown) => {
        throw new PlatformError("failed_precondition", "TLS_FILE_UNREADABLE", `cannot read TLS file ${f}`, {
          cause: err,
        });
      }),
    ),
  );
  return { cert: cert ?? "", key: key ?? "", ca: ca ?? "" };
}

/**
 * Starts the agent: runtime choice, cleanup of a previous run's leftovers, guest image,
 * network, registration, then the server. Rejects (having released everything it made) when
 * any step fails. Needs root.
 */
export async function startAgent(config: AgentConfig, log: Logger): Promise<Agent> {
  if (process.getuid?.() !== 0) {
    throw new PlatformError(
      "failed_precondition",
      "NEEDS_ROOT",
      "the host agent needs root (namespaces, cgroups, mounts, nftables)",
    );
  }
  const paths = agentPaths(config);
  for (const d of [config.wrennDir, paths.sandboxes, paths.templates, paths.pids]) {
    await mkdir(d, { recursive: true, mode: 0o700 });
  }
  const runner = new ExecFileRunner();
  const pids = new PidFiles(paths.pids);
  const namespace = new NamespaceRuntime({ runner, cgroupParent: config.net.prefix, pidFiles: pids });
  const chosen = await chooseRuntime(config.runtime, {
    namespace,
    qemu: new QemuRuntime({ wrennDir: config.cacheDir, runner, pidFiles: pids }),
    firecracker: new FirecrackerRuntime({ binary: config.firecrackerBinary, runner }),
    hardwareKvm: kvmUsable,
  });
  const runtime = chosen.runtime;
  log.info({ runtime: runtime.kind, reason: chosen.reason }, "runtime chosen");

  const templates = new TemplateStore(paths.templates, runner);
  await cleanupLeftovers({ pids, namespace, stateRoot: paths.sandboxes, templates, runner, log });

  const store = new AsyncDisposableStore();
  try {
    const images = new ImageResolver({ cacheDir: config.cacheDir, runtime: runtime.kind, runner, templates, log });
    const image = await images.prepare();
    log.info({ dir: image.dir, cached: image.cached }, "guest image ready");

    const network = new NetnsNetwork(config.net, runner, {
      ...(runtime.kind === "namespace" ? {} : { vmTap: {} }),
      log,
    });
    await store.add(network);
    await network.start();
    // Closed after every capsule is destroyed (the store disposes in reverse order).
    let server: AgentServer | undefined;
    store.defer(() => server?.closeAll());

    let manager: SandboxManager | undefined;
    const proxy = new PortProxy({
      log,
      // Every proxied request resolves its capsule: one map lookup, nothing copied.
      resolve: (id) => manager?.guestAddress(id),
    });
    store.defer(() => proxy.close());
    manager = new SandboxManager({
      runtime,
      network,
      stateRoot: paths.sandboxes,
      log,
      onDestroy: (id) => proxy.evict(id),
      // Pooled upstream sockets of a paused capsule would be stale after a VM restore.
      onPause: (id) => proxy.evict(id),
      // Capsules of the default template launched ahead of time (namespace runtime only: its
      // capsules can take on a create's identity after launch).
      ...(runtime === namespace && config.warmPool > 0
        ? {
            warmPool: {
              size: config.warmPool,
              runtime: namespace,
              templateId: MINIMAL_TEMPLATE.name,
              image: { rootfsDir: image.rootfs },
              vcpus: 1,
              memoryMb: 512,
              diskMb: 5120,
            },
          }
        : {}),
    });
    await store.add(manager);
    const mgr = manager;

    const registration = await startRegistration(config, paths.credentials, log);
    const tls = (await readTlsFiles(config)) ?? registration?.tls;
    if (!tls && !isLoopback(config.listen.host) && !config.allowPlaintext) {
      throw new PlatformError(
        "failed_precondition",
        "TLS_REQUIRED",
        "refusing plain HTTP on a non-loopback address: register with the control plane, set WRENN_TLS_CERT/KEY/CA, or pass --allow-plaintext",
      );
    }

    let shutdown: (reason: string) => Promise<string> = async (r) => r;
    const rpcDeps: HostAgentDeps = {
      manager: mgr,
      runtime,
      runtimeReason: chosen.reason,
      resolveImage: (id, name, team) => images.resolve(id, name, team),
      dataDir: config.wrennDir,
      templates,
      hostIp: (config.advertiseAddress?.replace(/:\d+$/, "") ?? config.listen.host).replace(/^\[|\]$/g, ""),
      terminate: () => void shutdown("Terminate RPC"),
    };
    const service = createHostAgentService(rpcDeps);
    server = await startAgentServer({
      host: config.listen.host,
      port: config.listen.port,
      // Unary binary calls skip connect-node's general machinery (rpc/unary-fast-path.ts).
      rpc: withUnaryFastPath(service, createRpcHandler(service)),
      http: createFileHttpHandler(rpcDeps),
      proxy,
      // /proxy/... also from a thread of its own, so proxied bytes never delay PTY and exec streams.
      ...(config.proxyPort !== undefined ? { proxyPort: config.proxyPort } : {}),
      log,
      ...(tls ? { tls } : {}),
    });
    const srv = server;
    log.info({ url: srv.url, tls: tls !== undefined }, "host agent serving");
    if (srv.proxyUrl !== undefined) log.info({ url: srv.proxyUrl }, "proxy thread serving /proxy/");

    const heartbeat = registration?.startHeartbeat({
      pauseAll: () => mgr.pauseAll(),
      onTls: config.tls ? undefined : (m) => srv.setTls(m),
      onGone: () => void shutdown("host deleted by the control plane"),
    });
    if (heartbeat) store.defer(() => heartbeat[Symbol.asyncDispose]());

    let resolveStopped: (reason: string) => void = () => {};
    const stopped = new Promise<string>((r) => {
      resolveStopped = r;
    });
    let stopping: Promise<string> | undefined;
    shutdown = (reason) => {
      stopping ??= (async () => {
        log.info({ reason }, "shutting down: destroying every capsule");
        await heartbeat?.[Symbol.asyncDispose]();
        srv.stopAccepting();
        // Capsules are destroyed, not kept: the agent's memory is their only record, and the
        // next start would remove them as leftovers anyway (documented in docs/host-agent.md).
        await store[Symbol.asyncDispose]().catch((err: unknown) =>
          log.error({ err: String(err) }, "shutdown step failed"),
        );
        log.info({ reason }, "host agent stopped");
        resolveStopped(reason);
        return reason;
      })();
      return stopping;
    };
    return { url: srv.url, runtime: { kind: runtime.kind, reason: chosen.reason }, manager: mgr, stopped, shutdown };
  } catch (err) {
    await store[Symbol.asyncDispose]().catch((e: unknown) =>
      log.error({ err: String(e) }, "cleanup after a failed start failed"),
    );
    throw err;
  }
}
