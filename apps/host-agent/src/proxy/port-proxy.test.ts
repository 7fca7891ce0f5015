import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import {
  closeServer,
  createHttpServer,
  freePort,
  get,
  listen,
  startProxy,
  startPythonServer,
} from "./proxy-test-helpers.js";

describe("PortProxy with real servers on loopback", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-proxy-"));
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "sub", "hello.txt"), "hi");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("python http.server: directory redirect stays under the prefix and does not loop", async () => {
    await using py = await startPythonServer(dir);
    await using p = await startProxy();
    const prefix = `/proxy/sbx/${py.port}`;
    const first = await get(`${p.base}${prefix}/sub`);
    assert.equal(first.status, 301);
    assert.equal(first.headers.location, `${prefix}/sub/`);
    const listing = await get(`${p.base}${String(first.headers.location)}`);
    assert.equal(listing.status, 200, "the trailing slash must survive, or python redirects again");
    assert.match(listing.body, /hello\.txt/);
    const file = await get(`${p.base}${prefix}/sub/hello.txt?x=1`);
    assert.equal(file.body, "hi");
  });

  it("node server: absolute, relative and foreign redirects; Host and X-Forwarded-* upstream", async () => {
    let seen: IncomingHttpHeaders = {};
    let seenUrl = "";
    const upstream = createHttpServer((req, res) => {
      seen = req.headers;
      seenUrl = req.url ?? "";
      const loc: Record<string, string> = {
        "/abs": `http://${req.headers.host}/target?a=1`,
        "/rel": "/root-relative/",
        "/foreign": "https://example.com/elsewhere",
        "/plain": "next/",
      };
      const target = loc[req.url ?? ""];
      if (target) res.writeHead(302, { location: target });
      else res.writeHead(200, { "content-type": "text/plain" });
      res.end(req.url);
    });
    const port = await listen(upstream);
    await using p = await startProxy();
    const pre = `/proxy/sbx/${port}`;
    assert.equal((await get(`${p.base}${pre}/abs`)).headers.location, `${pre}/target?a=1`);
    assert.equal((await get(`${p.base}${pre}/rel`)).headers.location, `${pre}/root-relative/`);
    assert.equal((await get(`${p.base}${pre}/foreign`)).headers.location, "https://example.com/elsewhere");
    assert.equal((await get(`${p.base}${pre}/plain`)).headers.location, "next/");
    const ok = await get(`${p.base}${pre}/a/b/?q=%2F1`);
    assert.equal(ok.body, "/a/b/?q=%2F1");
    assert.equal(seenUrl, "/a/b/?q=%2F1");
    assert.equal(seen.host, `127.0.0.1:${port}`);
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen["x-forwarded-proto"], "http");
    assert.match(String(seen["x-forwarded-host"]), /^127\.0\.0\.1:\d+$/);
    await closeServer(upstream);
  });

  it("answers 400 for a bad port or id and 404 for an unknown sandbox", async () => {
    await using p = await startProxy();
    for (const path of ["/proxy/sbx/0/", "/proxy/sbx/70000/", "/proxy/sbx/x/", "/proxy/b%20d/80/"]) {
      const a = await get(`${p.base}${path}`);
      assert.equal(a.status, 400, path);
      assert.equal(JSON.parse(a.body).code, "invalid_argument");
    }
    const nf = await get(`${p.base}/proxy/nope/80/`);
    assert.equal(nf.status, 404);
    assert.equal(JSON.parse(nf.body).reason, "sandbox_not_found");
  });

  it("WebSocket echo through the proxy", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((r) => wss.once("listening", r));
    wss.on("connection", (ws, req) => {
      ws.send(`path:${req.url}`);
      ws.on("message", (m, binary) => ws.send(m, { binary }));
    });
    const wsPort = (wss.address() as { port: number }).port;
    await using p = await startProxy();
    const client = new WebSocket(`${p.base.replace("http", "ws")}/proxy/sbx/${wsPort}/echo?x=1`);
    const messages: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.on("message", (m) => {
        messages.push(String(m));
        if (messages.length === 1) client.send("ping");
        else if (messages.length === 2) client.send(Buffer.alloc(256 * 1024, 7));
        else resolve();
      });
      client.on("error", reject);
    });
    await done;
    assert.equal(messages[0], "path:/echo?x=1");
    assert.equal(messages[1], "ping");
    assert.equal(messages[2]?.length, 256 * 1024);
    client.close();
    await new Promise((r) => client.once("close", r));
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });

  it("a refused upgrade is relayed as a plain answer with its Location rewritten", async () => {
    const upstream = createHttpServer((_req, res) => res.end());
    upstream.on("upgrade", (_req, socket) => {
      socket.end("HTTP/1.1 302 Found\r\nLocation: /login?next=%2Fws\r\nContent-Length: 0\r\n\r\n");
    });
    const port = await listen(upstream);
    await using p = await startProxy();
    const client = new WebSocket(`${p.base.replace("http", "ws")}/proxy/sbx/${port}/ws`);
    const answer = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      client.on("unexpected-response", (_req, res) =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location }),
      );
      client.on("error", reject);
    });
    assert.deepEqual(answer, { status: 302, location: `/proxy/sbx/${port}/login?next=%2Fws` });
    client.terminate();
    await closeServer(upstream);
  });

  it("a WebSocket to a dead port fails cleanly with 502", async () => {
    const port = await freePort();
    await using p = await startProxy();
    const client = new WebSocket(`${p.base.replace("http", "ws")}/proxy/sbx/${port}/`);
    const status = await new Promise<number>((resolve) => {
      client.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      client.on("error", () => resolve(-1));
    });
    assert.equal(status, 502);
  });

  it("retries the dial: a port that starts listening after two refused dials succeeds", async () => {
    const port = await freePort();
    // A wider backoff than the default's 100/200 ms, so a loaded machine still starts the
    // server inside the gap; the default policy itself is checked by the next test.
    await using p = await startProxy({ dialRetry: { attempts: 3, backoffMs: 400, connectTimeoutMs: 30_000 } });
    const late = createHttpServer((_req, res) => res.end("late but here"));
    const before = p.proxy.agent.dialAttempts;
    const pending = get(`${p.base}/proxy/sbx/${port}/`);
    // Listen once the second dial was refused (the third comes 800 ms later).
    for (const end = Date.now() + 10_000; p.proxy.agent.dialAttempts - before < 2; ) {
      if (Date.now() > end) assert.fail("the proxy never dialled twice");
      await new Promise((r) => setTimeout(r, 5));
    }
    await listen(late, port);
    try {
      const a = await pending;
      assert.equal(a.status, 200);
      assert.equal(a.body, "late but here");
      assert.equal(p.proxy.agent.dialAttempts - before, 3, "refused twice, accepted on the third dial");
    } finally {
      await closeServer(late);
    }
  });

  it("a never-listening port gives 502 JSON after 3 attempts", async () => {
    const port = await freePort();
    await using p = await startProxy();
    const before = p.proxy.agent.dialAttempts;
    const started = Date.now();
    const a = await get(`${p.base}/proxy/sbx/${port}/x`);
    const elapsed = Date.now() - started;
    assert.equal(a.status, 502);
    assert.equal(JSON.parse(a.body).reason, "port_unreachable");
    assert.equal(p.proxy.agent.dialAttempts - before, 3);
    assert.ok(elapsed >= 290, `backed off 100 + 200 ms between the dials: took ${elapsed} ms`);
  });

  it("caches targets per sandbox+port+guest and evict drops them and their idle sockets", async () => {
    const upstream = createHttpServer((_req, res) => res.end("ok"));
    const port = await listen(upstream);
    await using p = await startProxy();
    await get(`${p.base}/proxy/sbx/${port}/`);
    await get(`${p.base}/proxy/sbx/${port}/again`);
    assert.deepEqual(p.proxy.cachedKeys(), [`sbx/${port}/127.0.0.1`]);
    const idle = (): number => Object.values(p.proxy.agent.freeSockets).reduce((n, s) => n + (s?.length ?? 0), 0);
    assert.equal(idle(), 1, "one pooled keep-alive socket reused for both requests");
    p.proxy.evict("sbx");
    assert.deepEqual(p.proxy.cachedKeys(), []);
    // The pool forgets a socket on its 'close' event, a few ticks after destroy().
    for (let i = 0; i < 50 && idle() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(idle(), 0);
    await closeServer(upstream);
  });
});
