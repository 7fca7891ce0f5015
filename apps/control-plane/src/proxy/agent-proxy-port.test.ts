import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { AGENT_PROXY_LISTENER_PATH, AgentProxyPorts, probeOverPool } from "./agent-proxy-port.js";

/** A real HTTP server answering `answer(path)`; counts the requests per path. */
async function standIn(answer: (path: string) => { status: number; body: string }) {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const a = answer(path);
    res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("AgentProxyPorts", () => {
  const pool = new Agent({ keepAlive: true });
  const probe = probeOverPool(() => ({ agent: pool, scheme: "http" }));

  test("uses the port the agent names at /proxy-listener, asks once per TTL, asks again after evict", async () => {
    await using agent = await standIn((p) =>
      p === AGENT_PROXY_LISTENER_PATH ? { status: 200, body: '{"port":50052}' } : { status: 404, body: "{}" },
    );
    let now = 0;
    const ports = new AgentProxyPorts({ probe, ttlMs: 1000, now: () => now });
    const address = `127.0.0.1:${agent.port}`;
    const [a, b] = await Promise.all([ports.proxyAddress(address), ports.proxyAddress(address)]);
    assert.deepEqual([a, b], ["127.0.0.1:50052", "127.0.0.1:50052"]);
    assert.equal(agent.hits.get(AGENT_PROXY_LISTENER_PATH), 1, "concurrent requests share one probe");
    now = 999;
    await ports.proxyAddress(address);
    assert.equal(agent.hits.get(AGENT_PROXY_LISTENER_PATH), 1);
    now = 1000;
    await ports.proxyAddress(address);
    assert.equal(agent.hits.get(AGENT_PROXY_LISTENER_PATH), 2, "expired");
    ports.evict(address);
    await ports.proxyAddress(address);
    assert.equal(agent.hits.get(AGENT_PROXY_LISTENER_PATH), 3, "evicted");
  });

  test("an agent without a proxy thread, or with a nonsense answer, keeps its RPC address", async () => {
    for (const answer of [
      { status: 404, body: '{"code":"not_found"}' },
      { status: 200, body: '{"port":"50052"}' },
      { status: 200, body: '{"port":70000}' },
      { status: 200, body: "not json" },
    ]) {
      await using agent = await standIn(() => answer);
      const address = `127.0.0.1:${agent.port}`;
      assert.equal(await new AgentProxyPorts({ probe }).proxyAddress(address), address, answer.body);
    }
  });

  test("an unreachable agent keeps its address and is asked again next time", async () => {
    let probes = 0;
    const ports = new AgentProxyPorts({
      probe: async (address) => {
        probes++;
        return probe(address);
      },
    });
    assert.equal(await ports.proxyAddress("127.0.0.1:1"), "127.0.0.1:1");
    assert.equal(await ports.proxyAddress("127.0.0.1:1"), "127.0.0.1:1");
    assert.equal(probes, 2, "failures are not cached");
    assert.equal(await new AgentProxyPorts({ probe: async () => 9 }).proxyAddress("[::1]:50051"), "[::1]:9");
    pool.destroy();
  });
});
