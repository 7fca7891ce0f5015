import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import { PortProxy } from "../proxy/port-proxy.js";
import { TestCa } from "../registration/test-certs-test-helpers.js";
import { PROXY_LISTENER_PATH, startAgentServer, type TlsMaterial } from "./agent-server.js";

/** A real WebSocket echo server on loopback, standing in for a capsule's server. */
async function startEchoServer(): Promise<{ port: number } & AsyncDisposable> {
  const http: Server = createServer((_req, res) => res.end("plain"));
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (ws, req) => {
    ws.send(`hello ${req.url}`);
    ws.on("message", (data, binary) => ws.send(data, { binary }));
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  return {
    port: (http.address() as AddressInfo).port,
    async [Symbol.asyncDispose]() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

/** Opens a WebSocket, sends each message and collects as many answers (after the greeting). */
async function echoThrough(url: string, tls: object, messages: (string | Buffer)[]): Promise<(string | Buffer)[]> {
  const ws = new WebSocket(url, { ...tls });
  const got: (string | Buffer)[] = [];
  const all = new Promise<void>((resolve, reject) => {
    ws.on("message", (data: Buffer, binary) => {
      got.push(binary ? data : data.toString());
      if (got.length === messages.length + 1) resolve();
    });
    ws.on("error", reject);
  });
  await once(ws, "open");
  for (const m of messages) ws.send(m);
  await all;
  ws.close();
  await once(ws, "close");
  return got;
}

/** Resolves with the error that ends a WebSocket which must never open. */
function refused(url: string, tls: object): Promise<string> {
  const ws = new WebSocket(url, { ...tls });
  return new Promise((resolve, reject) => {
    ws.once("open", () => reject(new Error("the WebSocket opened")));
    ws.once("error", (err) => {
      ws.on("error", () => undefined);
      resolve(String(err));
    });
  });
}

/** An agent server with TLS material as registration makes it, and its proxy thread. */
async function mtlsAgent(
  resolve: PortProxy extends never ? never : ConstructorParameters<typeof PortProxy>[0]["resolve"],
) {
  const ca = await TestCa.create();
  const host = await ca.issue("host-1", "server");
  const cp = await ca.issue("wrenn-cp", "client");
  const tls: TlsMaterial = { cert: host.certPem, key: host.keyPem, ca: ca.ca.certPem };
  const proxy = new PortProxy({ resolve });
  const server = await startAgentServer({
    host: "127.0.0.1",
    port: 0,
    proxyPort: 0,
    proxy,
    rpc: (_q, r) => r.end("rpc"),
    tls,
  });
  return {
    server,
    proxy,
    client: { ca: ca.ca.certPem, cert: cp.certPem, key: cp.keyPem },
    ca,
    async [Symbol.asyncDispose]() {
      await server.closeAll();
      proxy.close();
      await ca[Symbol.asyncDispose]();
    },
  };
}

describe("agent server: the proxy thread", () => {
  it("relays WebSocket echoes over mTLS on the main port and on the proxy thread's port", async () => {
    await using echo = await startEchoServer();
    await using a = await mtlsAgent((id) => (id === "sb-1" ? { guestIp: "127.0.0.1" } : undefined));
    const proxyUrl = a.server.proxyUrl;
    assert.ok(proxyUrl);
    assert.notEqual(proxyUrl, a.server.url);
    const binary = Buffer.from([0, 1, 2, 250, 255]);
    const big = "x".repeat(200_000);
    for (const base of [a.server.url, proxyUrl]) {
      const ws = `${base.replace(/^https/, "wss")}/proxy/sb-1/${echo.port}/chat?room=1`;
      const got = await echoThrough(ws, a.client, ["ping", binary, big]);
      assert.deepEqual(got, ["hello /chat?room=1", "ping", binary, big], base);
      // Without the control plane's client certificate the handshake is refused.
      assert.match(await refused(ws, { ca: a.client.ca }), /certificate required/, base);
    }
  });

  it("answers the proxy port at /proxy-listener; the thread serves only /proxy/ and knows paused and gone capsules", async () => {
    await using echo = await startEchoServer();
    const state = new Map<string, { guestIp: string; paused?: boolean }>([["sb-1", { guestIp: "127.0.0.1" }]]);
    // The thread asks the main thread per request; an async resolver must work as well.
    await using a = await mtlsAgent(async (id) => state.get(id));
    const get = async (url: string) => {
      const { request } = await import("node:https");
      return new Promise<{ status: number; body: string }>((resolve, reject) => {
        request(url, { ...a.client, agent: false }, (res) => {
          let body = "";
          res.on("data", (d: Buffer) => {
            body += d.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on("error", reject)
          .end();
      });
    };
    const listener = await get(`${a.server.url}${PROXY_LISTENER_PATH}`);
    assert.equal(listener.status, 200);
    assert.equal(JSON.parse(listener.body).port, Number(new URL(a.server.proxyUrl ?? "").port));

    const base = a.server.proxyUrl ?? "";
    assert.deepEqual(await get(`${base}/proxy/sb-1/${echo.port}/`), { status: 200, body: "plain" });
    assert.equal(
      JSON.parse((await get(`${base}/hostagent.v1.HostAgentService/GetHostInfo`)).body).reason,
      "route_not_found",
    );
    assert.equal(JSON.parse((await get(`${base}/proxy/sb-2/${echo.port}/`)).body).reason, "sandbox_not_found");
    state.set("sb-1", { guestIp: "127.0.0.1", paused: true });
    const paused = await get(`${base}/proxy/sb-1/${echo.port}/`);
    assert.deepEqual([paused.status, JSON.parse(paused.body).reason], [503, "sandbox_paused"]);
  });

  it("without proxyPort there is no thread and /proxy-listener says so", async () => {
    const proxy = new PortProxy({ resolve: () => undefined });
    const s = await startAgentServer({ host: "127.0.0.1", port: 0, proxy, rpc: (_q, r) => r.end("rpc") });
    try {
      assert.equal(s.proxyUrl, undefined);
      const res = await fetch(`${s.url}${PROXY_LISTENER_PATH}`);
      assert.deepEqual([res.status, ((await res.json()) as { reason: string }).reason], [404, "no_proxy_listener"]);
    } finally {
      await s.closeAll();
      proxy.close();
    }
  });

  it("a proxy port already taken fails the start and leaves nothing listening", async () => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    const port = (taken.address() as AddressInfo).port;
    const proxy = new PortProxy({ resolve: () => undefined });
    try {
      await assert.rejects(
        startAgentServer({ host: "127.0.0.1", port: 0, proxyPort: port, proxy, rpc: (_q, r) => r.end() }),
        /EADDRINUSE/,
      );
    } finally {
      proxy.close();
      await new Promise((r) => taken.close(r));
    }
  });
});
