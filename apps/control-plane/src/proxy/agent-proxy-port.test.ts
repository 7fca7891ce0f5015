import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import pino from "pino";
import { buildApp } from "../app.js";
import { AGENT_PROXY_LISTENER_PATH, AgentProxyPorts, probeOverPool } from "./agent-proxy-port.js";
import { SandboxProxy } from "./sandbox-proxy.js";

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

describe("SandboxProxy and the agent's proxy thread", () => {
  test("traffic goes to the announced port; after a failed request the agent is asked again", async () => {
    const ID = `cl-${"d".repeat(25)}`;
    await using thread1 = await standIn((p) => ({ status: 200, body: `"thread-1 ${p}"` }));
    await using thread2 = await standIn((p) => ({ status: 200, body: `"thread-2 ${p}"` }));
    let announced = thread1.port;
    await using rpcPort = await standIn((p) =>
      p === AGENT_PROXY_LISTENER_PATH
        ? { status: 200, body: JSON.stringify({ port: announced }) }
        : { status: 200, body: '"rpc port"' },
    );
    const pool = new Agent({ keepAlive: true });
    const proxy = new SandboxProxy({
      domain: "localhost",
      lookup: async () => ({ status: "running", hostAddress: `127.0.0.1:${rpcPort.port}` }),
      agent: () => ({ agent: pool, scheme: "http" }),
      log: new MemoryLogger(),
    });
    const { app } = await buildApp({ version: "t", logger: pino({ level: "silent" }), intercept: proxy });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const appPort = (app.server.address() as AddressInfo).port;
    // fetch cannot set Host; the capsule is named by it.
    const get = () =>
      new Promise<string>((resolve, reject) => {
        request({ host: "127.0.0.1", port: appPort, path: "/x", headers: { host: `8000-${ID}.localhost` } }, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        })
          .on("error", reject)
          .end();
      });
    try {
      assert.equal(await get(), `200 "thread-1 /proxy/${ID}/8000/x"`);
      // The agent restarted: its thread listens elsewhere now.
      await thread1[Symbol.asyncDispose]();
      announced = thread2.port;
      assert.match(await get(), /^502 /);
      assert.equal(await get(), `200 "thread-2 /proxy/${ID}/8000/x"`);
      assert.equal(rpcPort.hits.get(AGENT_PROXY_LISTENER_PATH), 2);
      assert.equal(rpcPort.hits.get(`/proxy/${ID}/8000/x`), undefined, "nothing went to the RPC port");
    } finally {
      await app.close();
      pool.destroy();
    }
  });
});
