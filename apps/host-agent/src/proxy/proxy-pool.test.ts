import assert from "node:assert/strict";
import { once } from "node:events";
import { globalAgent } from "node:http";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { PortProxy } from "./port-proxy.js";
import { PROXY_SERVER_TIMEOUTS } from "./proxy-server.js";
import { closeServer, createHttpServer, get, listen, startProxy } from "./proxy-test-helpers.js";

describe("proxy transport and server settings", () => {
  it("uses its own HTTP/1.1 keep-alive pool: 20 idle sockets per guest port, 120 s idle", () => {
    const proxy = new PortProxy({ resolve: () => undefined });
    const agent = proxy.agent as typeof proxy.agent & { options: { keepAlive?: boolean; timeout?: number } };
    assert.notEqual(proxy.agent, globalAgent);
    assert.equal(proxy.agent.maxFreeSockets, 20);
    assert.equal(agent.options.keepAlive, true);
    assert.equal(agent.options.timeout, 120_000);
    proxy.close();
  });

  it("server: 10 s header-read timeout, 620 s idle, no request deadline", async () => {
    await using p = await startProxy();
    assert.equal(PROXY_SERVER_TIMEOUTS.headersTimeout, 10_000);
    assert.equal(p.server.headersTimeout, 10_000);
    assert.equal(p.server.keepAliveTimeout, 620_000);
    assert.equal(p.server.requestTimeout, 0);
  });

  it("never queues requests behind each other, keeps at most 20 idle, never touches the global agent", async () => {
    // Every request is held until all 30 are open at once (a barrier, not a timing guess):
    // a proxy that queued them would never get there, and the fallback releases them.
    let peak = 0;
    const held: (() => void)[] = [];
    const release = () => {
      for (const r of held.splice(0)) r();
    };
    const fallback = setTimeout(release, 5000);
    const upstream = createHttpServer((_req, res) => {
      held.push(() => res.end("ok"));
      peak = Math.max(peak, held.length);
      if (held.length === 30) release();
    });
    const port = await listen(upstream);
    try {
      await using p = await startProxy();
      const answers = await Promise.all(Array.from({ length: 30 }, () => get(`${p.base}/proxy/sbx/${port}/`)));
      assert.ok(answers.every((a) => a.status === 200));
      assert.equal(peak, 30, "30 slow requests ran side by side");
      const idle = Object.values(p.proxy.agent.freeSockets).reduce((n, s) => n + (s?.length ?? 0), 0);
      assert.equal(idle, 20);
      assert.equal(Object.keys(globalAgent.sockets).length + Object.keys(globalAgent.freeSockets).length, 0);
    } finally {
      clearTimeout(fallback);
      await closeServer(upstream);
    }
  });

  it("replays a bodiless request once when a pooled socket turns out dead", async () => {
    let conns = 0;
    const sockets: Socket[] = [];
    // One answer per connection, then a reset on the next request on the same socket:
    // a guest server that dropped an idle keep-alive connection without the pool noticing.
    const upstream = createServer((s) => {
      conns++;
      sockets.push(s);
      let served = false;
      s.on("error", () => {});
      s.on("data", () => {
        if (served) s.resetAndDestroy();
        else {
          served = true;
          s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok");
        }
      });
    });
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    const port = (upstream.address() as AddressInfo).port;
    await using p = await startProxy();
    assert.equal((await get(`${p.base}/proxy/sbx/${port}/a`)).body, "ok");
    const second = await get(`${p.base}/proxy/sbx/${port}/b`);
    assert.equal(second.status, 200);
    assert.equal(second.body, "ok");
    assert.equal(conns, 2);
    for (const s of sockets) s.destroy();
    await new Promise((r) => upstream.close(r));
  });
});
