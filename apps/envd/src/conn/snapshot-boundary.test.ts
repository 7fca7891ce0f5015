import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import type { Socket } from "node:net";
import { test } from "node:test";
import { useEnvd } from "../testing/test-envd.js";

/** Opens a request on its own keep-alive connection; resolves once response headers arrive. */
function open(
  url: string,
  path: string,
  init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise<{ socket: Socket; status: number; body: Promise<string> }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method: init.method ?? "GET", headers: init.headers, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      const body = new Promise<string>((done, fail) => {
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => done(text));
        res.on("error", fail);
        res.on("aborted", () => fail(new Error("aborted")));
      });
      body.catch(() => {});
      resolve({ socket: req.socket as Socket, status: res.statusCode ?? 0, body });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const closed = (s: Socket) => (s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once("close", () => r())));

test("snapshot boundary: prepare drops idle connections, restore drops every pre-snapshot connection", {
  timeout: 20_000,
}, async () => {
  await using t = await useEnvd();
  // An idle keep-alive connection and a long-lived process stream, as a host agent would have.
  const idle = await open(t.url, "/health");
  await idle.body;
  const stream = await open(t.url, "/process.Process/Start", {
    method: "POST",
    headers: { "content-type": "application/connect+json" },
    body: envelope({ process: { cmd: "sleep", args: ["30"] } }),
  });
  assert.equal(stream.status, 200);

  const prepare = await open(t.url, "/snapshot/prepare", { method: "POST" });
  assert.equal(prepare.status, 204);
  await closed(idle.socket);
  assert.equal(stream.socket.destroyed, false, "active streams survive the prepare");

  // The host restores the VM and announces it with /init on a new connection.
  const init = await open(t.url, "/init", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(init.status, 204);
  await closed(stream.socket);
  await assert.rejects(stream.body, "the zombie stream ends with an error, it does not hang");

  // New connections work and are kept alive again.
  const after = await open(t.url, "/health");
  assert.equal(after.status, 200);
  await after.body;
  assert.equal(after.socket.destroyed, false);
  after.socket.destroy();
});

/** One Connect streaming envelope (flags 0) carrying a JSON message. */
function envelope(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(5);
  header.writeUInt32BE(json.length, 1);
  return Buffer.concat([header, json]);
}
