import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Client, type Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { LoopbackRuntime } from "../sandboxes/loopback-runtime.js";
import { testManager } from "../sandboxes/sandbox-test-helpers.js";
import { createHostAgentService } from "./hostagent-service.js";
import { withUnaryFastPath } from "./unary-fast-path.js";

/** A hostagent client. @internal */
export type HA = Client<typeof HostAgentService>;

/**
 * @internal A running service on 127.0.0.1:0 over a loopback manager, unary calls through
 * the agent's fast path (as the agent serves them) unless `fastPath` is false; dispose stops
 * everything.
 */
export async function harness(opts: { readonly fastPath?: boolean } = {}) {
  const tm = await testManager();
  const runtime = new LoopbackRuntime();
  const impl = createHostAgentService({
    manager: tm.mgr,
    runtime,
    resolveImage: async () => ({ rootfsDir: "/" }),
    dataDir: tm.stateRoot,
    hostIp: "127.0.0.1",
  });
  const connect = connectNodeAdapter({ routes: (r) => r.service(HostAgentService, impl) });
  const server = createServer(opts.fastPath === false ? connect : withUnaryFastPath(impl, connect));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client: HA = createClient(
    HostAgentService,
    createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
  );
  return {
    client,
    tm,
    baseUrl,
    /** The service itself, for servers of a test's own. */
    impl: impl as ServiceImpl<typeof HostAgentService>,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await tm[Symbol.asyncDispose]();
    },
  };
}

/** Asserts `p` rejects with Connect `code`. @internal */
export async function rejectsWith(p: Promise<unknown>, code: Code, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.equal(ConnectError.from(e).code, code, `${what}: ${String(e)}`);
    return true;
  });
}

/** Drains a stream. @internal */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
