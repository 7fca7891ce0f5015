import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { HostAgentService } from "@wrenn/protocol/hostagent/v1";
import { PortProxy } from "../proxy/port-proxy.js";
import { TestCa } from "../registration/test-certs-test-helpers.js";
import { createHostAgentService } from "../rpc/hostagent-service.js";
import { LoopbackRuntime } from "../sandboxes/loopback-runtime.js";
import { testManager } from "../sandboxes/sandbox-test-helpers.js";
import { type AgentServer, createRpcHandler, startAgentServer, type TlsMaterial } from "./agent-server.js";

/** GET over TLS; resolves with status, body and the server certificate's serial. */
function tlsGet(
  url: string,
  o: { ca: string; cert?: string; key?: string },
): Promise<{ status: number; body: string; serial: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...o, agent: false }, (res) => {
      const socket = res.socket as import("node:tls").TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber;
      const protocol = socket.getProtocol();
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, serial, protocol }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function withServer(tls: TlsMaterial | undefined, o: { headersTimeoutMs?: number } = {}) {
  const proxy = new PortProxy({ resolve: () => undefined });
  const server = await startAgentServer({
    host: "127.0.0.1",
    port: 0,
    proxy,
    rpc: (_req, res) => res.end("rpc"),
    ...(tls ? { tls } : {}),
    ...o,
  });
  return Object.assign(server, {
    async [Symbol.asyncDispose]() {
      proxy.close();
      await server.closeAll();
    },
  }) as AgentServer & AsyncDisposable;
}

describe("agent server", () => {
  it("routes /proxy/ to the port proxy and the rest to RPC; cuts a connection whose headers do not arrive in time", async () => {
    await using s = await withServer(undefined, { headersTimeoutMs: 300 });
    const proxied = await fetch(`${s.url}/proxy/sb-none/8080/x`);
    assert.equal(proxied.status, 404);
    assert.equal(((await proxied.json()) as { reason: string }).reason, "sandbox_not_found");
    assert.equal(
      await (await fetch(`${s.url}/hostagent.v1.HostAgentService/GetHostInfo`, { method: "POST" })).text(),
      "rpc",
    );
    assert.equal(s.server.keepAliveTimeout, 620_000);
    assert.equal(s.server.requestTimeout, 0);

    const port = Number(new URL(s.url).port);
    const slow: Socket = connect(port, "127.0.0.1");
    await once(slow, "connect");
    slow.write("GET / HTTP/1.1\r\nHost: x\r\n"); // never finishes the header block
    let answer = "";
    slow.on("data", (d: Buffer) => {
      answer += d.toString();
    });
    await once(slow, "close");
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it("serves TLS 1.3 with required client certificates (mTLS), HTTP/1.1 only, and hot-swaps its certificate", async () => {
    await using ca = await TestCa.create();
    await using otherCa = await TestCa.create();
    const host1 = await ca.issue("host-1", "server");
    const host2 = await ca.issue("host-1", "server");
    const client = await ca.issue("wrenn-cp", "client");
    const stranger = await otherCa.issue("wrenn-cp", "client");
    await using s = await withServer({ cert: host1.certPem, key: host1.keyPem, ca: ca.ca.certPem });
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const creds = { ca: ca.ca.certPem, cert: client.certPem, key: client.keyPem };

    const first = await tlsGet(`${s.url}/x`, creds);
    assert.deepEqual([first.status, first.body, first.protocol], [200, "rpc", "TLSv1.3"]);
    await assert.rejects(tlsGet(`${s.url}/x`, { ca: ca.ca.certPem }), "no client certificate");
    await assert.rejects(
      tlsGet(`${s.url}/x`, { ca: ca.ca.certPem, cert: stranger.certPem, key: stranger.keyPem }),
      "client certificate from another CA",
    );

    const port = Number(new URL(s.url).port);
    const alpn = tlsConnect({ port, host: "127.0.0.1", ...creds, ALPNProtocols: ["h2", "http/1.1"] });
    await once(alpn, "secureConnect");
    assert.equal(alpn.alpnProtocol, "http/1.1", "HTTP/2 is never negotiated");
    alpn.destroy();

    s.setTls({ cert: host2.certPem, key: host2.keyPem, ca: ca.ca.certPem });
    const second = await tlsGet(`${s.url}/x`, creds);
    assert.equal(second.status, 200);
    assert.notEqual(second.serial, first.serial, "new connections get the swapped certificate");
  });

  it("carries the hostagent.v1 service over mTLS with a Connect client", async () => {
    await using ca = await TestCa.create();
    const host = await ca.issue("host-1", "server");
    const cp = await ca.issue("wrenn-cp", "client");
    await using tm = await testManager();
    const proxy = new PortProxy({ resolve: () => undefined });
    const service = createHostAgentService({
      manager: tm.mgr,
      runtime: new LoopbackRuntime(),
      runtimeReason: "loopback (test)",
      resolveImage: async () => ({ rootfsDir: "/" }),
      dataDir: tm.stateRoot,
    });
    const s = await startAgentServer({
      host: "127.0.0.1",
      port: 0,
      proxy,
      rpc: connectNodeAdapter({ routes: (r) => r.service(HostAgentService, service) }),
      tls: { cert: host.certPem, key: host.keyPem, ca: ca.ca.certPem },
    });
    try {
      const c = createClient(
        HostAgentService,
        createConnectTransport({
          baseUrl: s.url,
          httpVersion: "1.1",
          nodeOptions: { ca: ca.ca.certPem, cert: cp.certPem, key: cp.keyPem },
        }),
      );
      const info = await c.getHostInfo({});
      assert.deepEqual([info.runtime, info.runtimeReason], ["loopback", "loopback (test)"]);
    } finally {
      proxy.close();
      await s.closeAll();
    }
  });

  it("never compresses RPC responses, even for a client that offers gzip (the stock adapter would)", async () => {
    const chunk = Buffer.alloc(256 * 1024, 7);
    const files = {
      async *readFileStream() {
        yield { chunk };
        yield { chunk };
      },
    };
    /** Streams the two chunks with a client offering gzip and brotli; counts the bytes the server sent. */
    const drain = async (rpc: (req: IncomingMessage, res: ServerResponse) => void) => {
      const proxy = new PortProxy({ resolve: () => undefined });
      const s = await startAgentServer({ host: "127.0.0.1", port: 0, proxy, rpc });
      const sockets: Socket[] = [];
      s.server.on("connection", (socket: Socket) => sockets.push(socket));
      try {
        const c = createClient(HostAgentService, createConnectTransport({ baseUrl: s.url, httpVersion: "1.1" }));
        let received = 0;
        for await (const m of c.readFileStream({ sandboxId: "x", path: "/f" })) {
          assert.ok(m.chunk.every((b) => b === 7));
          received += m.chunk.length;
        }
        return { received, wire: sockets.reduce((n, socket) => n + socket.bytesWritten, 0) };
      } finally {
        proxy.close();
        await s.closeAll();
      }
    };
    const ours = await drain(createRpcHandler(files));
    assert.equal(ours.received, 2 * chunk.length);
    assert.ok(ours.wire > 2 * chunk.length, `${ours.wire} bytes on the wire: the chunks went uncompressed`);
    const stock = await drain(connectNodeAdapter({ routes: (r) => r.service(HostAgentService, files) }));
    assert.equal(stock.received, 2 * chunk.length);
    assert.ok(stock.wire < chunk.length, "the control case: Connect's default gzips them");
  });
});
