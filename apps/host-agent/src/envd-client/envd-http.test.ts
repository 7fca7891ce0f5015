import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent } from "node:http";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { envdRequest, readText } from "./envd-http.js";

const OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok";

describe("envdRequest", () => {
  it("retries once on a fresh socket when a reused pooled socket turns out dead", async () => {
    let conns = 0;
    const sockets: Socket[] = [];
    // Serves one request per connection, then kills the socket on the next one without a
    // FIN in between: what a connection frozen in a snapshot looks like after restore.
    const server = createServer((s) => {
      conns++;
      sockets.push(s);
      let served = false;
      s.on("data", () => {
        if (served) s.resetAndDestroy();
        else {
          served = true;
          s.write(OK);
        }
      });
      s.on("error", () => {});
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = { agent, url, method: "GET", headers: {} };
    assert.equal(await readText(await envdRequest(call)), "ok");
    await new Promise((r) => setImmediate(r));
    assert.equal(await readText(await envdRequest(call)), "ok");
    assert.equal(conns, 2, "second call reused the pooled socket, failed, and retried on a new one");
    agent.destroy();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it("does not retry a failure on a fresh socket", async () => {
    let conns = 0;
    const server = createServer((s) => {
      conns++;
      s.on("error", () => {});
      s.once("data", () => s.resetAndDestroy());
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const agent = new Agent({ keepAlive: true });
    await assert.rejects(envdRequest({ agent, url, method: "GET", headers: {} }), { code: "ECONNRESET" });
    assert.equal(conns, 1);
    agent.destroy();
    await new Promise((r) => server.close(r));
  });
});
