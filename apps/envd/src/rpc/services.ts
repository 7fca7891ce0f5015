import type { ConnectRouter } from "@connectrpc/connect";
import { Filesystem } from "@wrenn/protocol/envd/filesystem";
import { Process } from "@wrenn/protocol/envd/process";
import type { EnvdEnv } from "../env.js";
import { createFilesystemService } from "../filesystem/filesystem.service.js";
import { preloadXattr } from "../filesystem/metadata.js";
import { WatcherRegistry } from "../filesystem/watcher-registry.js";
import { createProcessService } from "../process/process.service.js";
import { type ConnectHandler, createConnectHandler } from "./connect-handler.js";

/** envd's Connect services behind one request handler, and what closing them releases. */
export interface EnvdServices {
  /** Serves a Connect request; false when no RPC has this path. */
  readonly handle: ConnectHandler;
  /** Closes every CreateWatcher watcher (shutdown). */
  close(): void;
}

/**
 * Builds the `process.Process` and `filesystem.Filesystem` Connect services.
 * server.ts imports this module on the first RPC rather than at start: the
 * protobuf descriptors, Connect's router and the services are most of envd's
 * code, and `/health` must answer before any of it is loaded.
 */
export function createEnvdServices(env: EnvdEnv): EnvdServices {
  const watchers = new WatcherRegistry(env.log.child({ component: "watchers" }));
  // Every Stat and ListDir reads file metadata: get its addon loading now.
  preloadXattr();
  const handle = createConnectHandler({
    routes: (router: ConnectRouter) => {
      router.service(Process, createProcessService(env));
      router.service(Filesystem, createFilesystemService(env, watchers));
    },
    // No response compression: process output and file listings are mostly
    // produced once and read once on loopback or a VM link, where gzip costs
    // the sandbox CPU and gains nothing (the e2b SDK never asks for it).
    options: { jsonOptions: { ignoreUnknownFields: true }, readMaxBytes: 64 * 1024 * 1024, acceptCompression: [] },
    log: env.log.child({ component: "rpc" }),
  });
  return { handle, close: () => watchers.closeAll() };
}
