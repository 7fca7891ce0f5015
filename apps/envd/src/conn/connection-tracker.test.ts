import assert from "node:assert/strict";
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { test } from "node:test";
import { ConnectionTracker } from "./connection-tracker.js";

/**
 * A server using the tracker like envd does: /slow holds its response open
 * until released, /prepare and /restore simulate the snapshot boundary.
 */
async function useTrackedServer() {
  const tracker = new ConnectionTracker();
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    tracker.onRequest(req.socket, res);
    if (req.url === "/slow") {
      res.writeHead(200);
      res.write("started\n");
      held.push(res);
      return;
    }
    if (req.url === "/prepare") tracker.prepareForSnapshot();
    if (req.url === "/restore") tracker.restoreAfterSnapshot(req.socket);
    res.end("ok");
  });
  server.keepAliveTimeout = 60_000;
  tracker.attach(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    tracker,
    port,
    held,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * GET over a dedicated keep-alive agent with one socket, so each call site is
 * one client connection whose closing by the server we can observe.
 */
function get(
  port: number,
  path: string,
): Promise<{ body: string; socket: Socket; headers: IncomingMessage["headers"] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      const done = () => resolve({ body, socket: req.socket as Socket, headers: res.headers });
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
        if (path === "/slow" && body.includes("started")) done();
      });
      res.on("end", done);
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function closed(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((r) => socket.once("close", () => r()));
}

test("prepare closes idle connections at once and lets active ones finish without keep-alive", {
  timeout: 5000,
}, async () => {
  await using srv = await useTrackedServer();
  const idle = await get(srv.port, "/idle");
  const active = await get(srv.port, "/slow");
  assert.equal(srv.tracker.stats().total, 2);

  await get(srv.port, "/prepare");
  await closed(idle.socket);
  assert.equal(active.socket.destroyed, false, "an active connection is not cut mid-response");

  // A request arriving now is answered but its connection is not kept alive.
  const during = await get(srv.port, "/during");
  assert.equal(during.headers.connection, "close");

  // The active response completes normally, then its connection closes.
  const slow = srv.held.pop();
  assert.ok(slow);
  slow.end("done");
  await closed(active.socket);
});

test("restore destroys every pre-snapshot connection but keeps the one announcing the restore", {
  timeout: 5000,
}, async () => {
  await using srv = await useTrackedServer();
  const zombie = await get(srv.port, "/slow"); // e.g. a process stream open across the snapshot
  await get(srv.port, "/prepare");
  assert.equal(srv.tracker.stats().preSnapshot, 1);

  const restore = await get(srv.port, "/restore");
  assert.equal(restore.body, "ok", "the restoring request itself is answered");
  await closed(zombie.socket);
  assert.equal(srv.tracker.keepAliveEnabled, true);

  // After the restore, connections are kept alive again and survive.
  const after = await get(srv.port, "/after");
  assert.notEqual(after.headers.connection, "close");
  assert.equal(after.socket.destroyed, false);
  after.socket.destroy();
});
