import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { describe, test } from "node:test";
import pino from "pino";
import { Type } from "typebox";
import WebSocket from "ws";
import { parse as parseYaml } from "yaml";
import { type AppDeps, buildApp } from "./app.js";
import { ApiError } from "./http/api-error.js";

async function startApp(overrides: Partial<AppDeps> = {}) {
  const { app } = await buildApp({
    version: "9.9.9-test",
    logger: pino({ level: "silent" }),
    bodyLimit: 1024,
    routes: [
      (a) => {
        a.post(
          "/v1/echo",
          {
            schema: {
              tags: ["test"],
              summary: "echo a name",
              body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Optional(Type.Integer()) }),
            },
          },
          async (req) => ({ name: req.body.name }),
        );
        a.get("/v1/boom", async () => {
          throw new Error("secret internals at /etc/shadow");
        });
        a.get("/v1/conflict", async () => {
          throw new ApiError(409, "has_active_sandboxes", "host has capsules", { extra: { sandbox_ids: ["cl-1"] } });
        });
      },
    ],
    wsRoutes: [
      (a) => {
        a.get("/v1/ws-echo", { websocket: true }, (socket) => {
          socket.on("message", (m: Buffer) => socket.send(m.toString()));
        });
      },
    ],
    ...overrides,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === "object");
  const base = `http://127.0.0.1:${address.port}`;
  return {
    app,
    base,
    port: address.port,
    async [Symbol.asyncDispose]() {
      await app.close();
    },
  };
}

describe("control-plane app core", () => {
  test("/health answers with the version", async () => {
    await using s = await startApp();
    const res = await fetch(`${s.base}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok", version: "9.9.9-test" });
    assert.ok(res.headers.get("x-request-id"));
  });

  test("unknown routes, bad JSON, bad bodies, big bodies and crashes get the error body", async () => {
    await using s = await startApp();
    const cases: Array<[RequestInit & { path: string }, number, string]> = [
      [{ path: "/v1/nope" }, 404, "not_found"],
      [
        { path: "/v1/echo", method: "POST", body: "{", headers: { "content-type": "application/json" } },
        400,
        "invalid_request",
      ],
      [
        { path: "/v1/echo", method: "POST", body: "{}", headers: { "content-type": "application/json" } },
        400,
        "invalid_request",
      ],
      [
        { path: "/v1/echo", method: "POST", body: '{"name":5}', headers: { "content-type": "application/json" } },
        400,
        "invalid_request",
      ],
      [
        {
          path: "/v1/echo",
          method: "POST",
          body: JSON.stringify({ name: "x".repeat(5000) }),
          headers: { "content-type": "application/json" },
        },
        413,
        "too_large",
      ],
      [
        { path: "/v1/echo", method: "POST", body: "name=x", headers: { "content-type": "text/csv" } },
        415,
        "unsupported_media_type",
      ],
      [{ path: "/v1/boom" }, 500, "internal_error"],
    ];
    for (const [init, status, code] of cases) {
      const res = await fetch(`${s.base}${init.path}`, init);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, status, `${init.method ?? "GET"} ${init.path}`);
      assert.equal(body.error.code, code, `${init.path}: ${body.error.message}`);
      assert.equal(typeof body.error.message, "string");
      assert.ok(!body.error.message.includes("/etc/shadow"), "internals never leak");
    }
    const missing = await fetch(`${s.base}/v1/echo`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /name/);
  });

  test("extra fields of an ApiError sit next to code and message", async () => {
    await using s = await startApp();
    const res = await fetch(`${s.base}/v1/conflict`);
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), {
      error: { code: "has_active_sandboxes", message: "host has capsules", sandbox_ids: ["cl-1"] },
    });
  });

  test("a sane X-Request-Id is kept, anything else replaced", async () => {
    await using s = await startApp();
    const kept = await fetch(`${s.base}/health`, { headers: { "x-request-id": "abc-123" } });
    assert.equal(kept.headers.get("x-request-id"), "abc-123");
    const replaced = await fetch(`${s.base}/health`, { headers: { "x-request-id": "bad id<script>" } });
    assert.notEqual(replaced.headers.get("x-request-id"), "bad id<script>");
  });

  test("Prometheus /metrics counts requests by route pattern", async () => {
    await using s = await startApp();
    await fetch(`${s.base}/health`);
    await fetch(`${s.base}/v1/nope-${Date.now()}`);
    const text = await (await fetch(`${s.base}/metrics`)).text();
    assert.match(text, /wrenn_cp_http_requests_total\{method="GET",route="\/health",status="200"\} 1/);
    assert.doesNotMatch(text, /nope-/, "raw URLs never become labels");
    assert.match(text, /wrenn_cp_process_resident_memory_bytes/);
  });

  test("/openapi.yaml describes tagged routes and /docs renders them without external assets", async () => {
    await using s = await startApp();
    const res = await fetch(`${s.base}/openapi.yaml`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /yaml/);
    const doc = parseYaml(await res.text()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, "3.0.3");
    assert.ok(doc.paths["/v1/echo"]?.["post"], "tagged route documented");
    assert.equal(doc.paths["/health"], undefined, "infrastructure routes hidden");
    const html = await (await fetch(`${s.base}/docs`)).text();
    assert.match(html, /\/v1\/echo/);
    assert.doesNotMatch(html, /<script|https?:\/\/unpkg/);
  });

  test("WebSocket routes upgrade; the same server still answers plain HTTP", async () => {
    await using s = await startApp();
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/v1/ws-echo`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send("ping-1");
    const reply = await new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
    assert.equal(reply, "ping-1");
    ws.close();
  });

  test("server timeouts: 10 s for headers, 620 s idle, no request deadline", async () => {
    await using s = await startApp();
    assert.equal(s.app.server.headersTimeout, 10_000);
    assert.equal(s.app.server.keepAliveTimeout, 620_000);
    assert.equal(s.app.server.requestTimeout, 0);
  });

  test("an interceptor takes its requests and upgrades before routing", async () => {
    await using s = await startApp({
      intercept: {
        handleRequest(req, res) {
          if (!req.headers.host?.startsWith("8000-")) return false;
          res.end("intercepted");
          return true;
        },
        handleUpgrade(req, socket) {
          if (!req.headers.host?.startsWith("8000-")) return false;
          socket.end("HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\n\r\n");
          return true;
        },
      },
    });
    const intercepted = await new Promise<string>((resolve, reject) => {
      const req = request({
        port: s.port,
        host: "127.0.0.1",
        path: "/health",
        headers: { host: "8000-cl-abc.localhost" },
      });
      req.on("response", (r) => {
        let text = "";
        r.on("data", (d: Buffer) => {
          text += d.toString();
        });
        r.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(intercepted, "intercepted");
    assert.equal((await fetch(`${s.base}/health`)).status, 200);
    const status = await new Promise<string>((resolve) => {
      const sock = connect(s.port, "127.0.0.1", () => {
        sock.write(
          "GET /x HTTP/1.1\r\nHost: 8000-cl-abc.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
      });
      sock.once("data", (d) => {
        resolve(d.toString().split("\r\n")[0] ?? "");
        sock.destroy();
      });
    });
    assert.equal(status, "HTTP/1.1 418 I'm a teapot");
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/health`);
      ws.once("unexpected-response", (req, r) => {
        assert.equal(r.statusCode, 200, "a non-WS route answers as plain HTTP, never upgrades");
        req.destroy();
        resolve();
      });
      ws.once("open", () => reject(new Error("upgrade accepted on a non-WS route")));
      ws.once("error", () => undefined);
    });
  });
});
