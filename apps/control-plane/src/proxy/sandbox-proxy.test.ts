import assert from "node:assert/strict";
import { Agent, createServer, type IncomingMessage, request, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { MemoryLogger } from "@wrenn/kit";
import pino from "pino";
import WebSocket, { WebSocketServer } from "ws";
import { buildApp } from "../app.js";
import type { ProxyTargetRow } from "./proxy-target-cache.js";
import { SandboxProxy } from "./sandbox-proxy.js";

const ID = `cl-${"a".repeat(25)}`;
const PAUSED = `cl-${"b".repeat(25)}`;
const DEAD = `cl-${"c".repeat(25)}`;

/** A stand-in for a host agent's /proxy endpoint: a real HTTP + WebSocket server. */
async function startAgentStandIn(): Promise<{ server: Server; port: number; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    if (req.url?.endsWith("/redirect")) {
      res.writeHead(302, { location: `/proxy/${ID}/8000/dir/` }).end();
      return;
    }
    let size = 0;
    req.on("data", (d: Buffer) => {
      size += d.length;
    });
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", connection: "keep-alive" });
      res.end(JSON.stringify({ url: req.url, size, fwdHost: req.headers["x-forwarded-host"] }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws, req) => {
    ws.on("message", (m) => ws.send(`${req.url} ${String(m)}`));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return { server, port: address.port, seen };
}

function get(port: number, host: string, path: string, body?: Buffer) {
  return new Promise<{ status: number; headers: IncomingMessage["headers"]; text: string }>((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", path, method: body ? "POST" : "GET", headers: { host } });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("SandboxProxy ({port}-{id}.{domain})", () => {
  let agent: Awaited<ReturnType<typeof startAgentStandIn>>;
  let appPort = 0;
  let lookups = 0;
  let close: () => Promise<void>;
  const proxyAgent = new Agent({ keepAlive: true });
  const log = new MemoryLogger();

  before(async () => {
    agent = await startAgentStandIn();
    const rows: Record<string, ProxyTargetRow> = {
      [ID]: { status: "running", hostAddress: `127.0.0.1:${agent.port}` },
      [PAUSED]: { status: "paused", hostAddress: `127.0.0.1:${agent.port}` },
      [DEAD]: { status: "running", hostAddress: "127.0.0.1:1" },
    };
    const proxy = new SandboxProxy({
      domain: "localhost",
      lookup: async (id) => {
        lookups++;
        return rows[id];
      },
      agent: () => ({ agent: proxyAgent, scheme: "http" }),
      log,
    });
    const { app } = await buildApp({ version: "t", logger: pino({ level: "silent" }), intercept: proxy });
    await app.listen({ port: 0, host: "127.0.0.1" });
    appPort = (app.server.address() as { port: number }).port;
    close = () => app.close();
  });
  after(async () => {
    await close();
    proxyAgent.destroy();
    agent.server.closeAllConnections();
    await new Promise((r) => agent.server.close(r));
  });

  test("forwards to /proxy/{id}/{port}{path} keeping trailing slashes and the query", async () => {
    const res = await get(appPort, `8000-${ID}.localhost:${appPort}`, "/dir/?q=1");
    assert.equal(res.status, 200);
    const body = JSON.parse(res.text) as { url: string; fwdHost: string };
    assert.equal(body.url, `/proxy/${ID}/8000/dir/?q=1`);
    assert.equal(body.fwdHost, `8000-${ID}.localhost:${appPort}`);
  });

  test("redirects come back without the agent's prefix", async () => {
    const res = await get(appPort, `8000-${ID}.localhost`, "/redirect");
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, "/dir/");
  });

  test("streams a 20 MB request body", async () => {
    const res = await get(appPort, `8000-${ID}.localhost`, "/upload", Buffer.alloc(20 * 1024 * 1024, 7));
    assert.equal((JSON.parse(res.text) as { size: number }).size, 20 * 1024 * 1024);
  });

  test("host addresses are cached between requests", async () => {
    const before = lookups;
    await get(appPort, `8000-${ID}.localhost`, "/a");
    await get(appPort, `8000-${ID}.localhost`, "/b");
    assert.ok(lookups - before <= 1, `looked up ${lookups - before} times`);
  });

  test("unknown capsule 404, paused 409, bad port or id 400, other hosts are the API's", async () => {
    assert.equal((await get(appPort, `8000-cl-${"z".repeat(25)}.localhost`, "/")).status, 404);
    const paused = await get(appPort, `8000-${PAUSED}.localhost`, "/");
    assert.equal(paused.status, 409);
    assert.equal((JSON.parse(paused.text) as { error: { code: string } }).error.code, "invalid_state");
    assert.equal((await get(appPort, `70000-${ID}.localhost`, "/")).status, 400);
    assert.equal((await get(appPort, "8000-cl-short.localhost", "/")).status, 400);
    assert.equal((await get(appPort, `8000-${ID}.example.com`, "/health")).status, 200);
  });

  test("an unreachable host answers 502 and is not cached", async () => {
    const res = await get(appPort, `8000-${DEAD}.localhost`, "/");
    assert.equal(res.status, 502);
    assert.equal((JSON.parse(res.text) as { error: { code: string } }).error.code, "proxy_error");
    const before = lookups;
    await get(appPort, `8000-${DEAD}.localhost`, "/");
    assert.equal(lookups - before, 1, "evicted after the failure");
  });

  test("WebSockets pass through both ways", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${appPort}/echo`, { headers: { host: `8000-${ID}.localhost` } });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send("hello");
    const reply = await new Promise<string>((resolve) => ws.once("message", (d) => resolve(String(d))));
    assert.equal(reply, `/proxy/${ID}/8000/echo hello`);
    ws.close();
    await new Promise((r) => ws.once("close", r));
  });
});
