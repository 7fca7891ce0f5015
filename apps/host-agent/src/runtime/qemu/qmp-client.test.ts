import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { QmpClient, type QmpEvent } from "./qmp-client.js";

const dir = await mkdtemp(join(tmpdir(), "wrenn-qmp-test-"));
after(() => rm(dir, { recursive: true, force: true }));

/** A fake QEMU: greets, needs qmp_capabilities first, answers out of order, emits events. */
async function fakeQmp(path: string, received: unknown[]): Promise<Server> {
  const server = createServer((sock: Socket) => {
    sock.setEncoding("utf8");
    sock.write('{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": ["oob"]}}\n');
    let buf = "";
    let negotiated = false;
    const held: Array<() => void> = [];
    sock.on("data", (d: string) => {
      buf += d;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string; arguments?: unknown };
        buf = buf.slice(nl + 1);
        received.push(msg);
        const reply = (body: object) => sock.write(`${JSON.stringify({ ...body, id: msg.id })}\r\n`);
        if (msg.execute === "qmp_capabilities") {
          negotiated = true;
          reply({ return: {} });
        } else if (!negotiated) {
          reply({ error: { class: "CommandNotFound", desc: "capabilities first" } });
        } else if (msg.execute === "slow") {
          held.push(() => reply({ return: "slow-done" }));
        } else if (msg.execute === "query-status") {
          // Split across writes, with an event in between, to exercise line buffering.
          sock.write('{"timestamp": {"seconds": 1}, "event": "STOP"}\n{"return": {"status": ');
          sock.write(`"paused"}, "id": "${msg.id}"}\n`);
          for (const h of held.splice(0)) h();
        } else {
          reply({ error: { class: "GenericError", desc: `no ${msg.execute}` } });
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

test("QmpClient: greeting, capabilities, ids matched out of order, events, errors", async () => {
  const path = join(dir, "a.sock");
  const received: unknown[] = [];
  const server = await fakeQmp(path, received);
  const qmp = await QmpClient.connect(path);
  const events: QmpEvent[] = [];
  qmp.onEvent = (e) => events.push(e);
  const slow = qmp.execute<string>("slow");
  const status = await qmp.execute<{ status: string }>("query-status");
  assert.deepEqual(status, { status: "paused" });
  assert.equal(await slow, "slow-done");
  assert.deepEqual(events, [{ event: "STOP", data: undefined }]);
  await assert.rejects(
    qmp.execute("nope", { a: 1 }),
    (e: unknown) => e instanceof PlatformError && /GenericError: no nope/.test(e.message),
  );
  assert.deepEqual(received[0], { execute: "qmp_capabilities", id: "w1" });
  assert.deepEqual(received.at(-1), { execute: "nope", arguments: { a: 1 }, id: "w4" });
  qmp.close();
  await assert.rejects(qmp.execute("query-status"), /closed/);
  await new Promise((r) => server.close(r));
});

test("QmpClient: a closed connection rejects pending commands; no server rejects connect", async () => {
  const path = join(dir, "b.sock");
  const server = await fakeQmp(path, []);
  const sockets: Socket[] = [];
  server.on("connection", (sock: Socket) => sockets.push(sock));
  const qmp = await QmpClient.connect(path);
  const pending = qmp.execute("slow");
  // QEMU going away mid-command: the server drops every connection.
  server.close();
  for (const sock of sockets) sock.destroy();
  await assert.rejects(pending, /QMP connection closed|ECONNRESET/);
  await assert.rejects(QmpClient.connect(join(dir, "missing.sock")), /ENOENT/);
});

test("QmpClient.connect removes its abort listener on success, failure and abort; a close before the greeting rejects", async () => {
  const listeners = (s: AbortSignal) => getEventListeners(s, "abort").length;
  const ac = new AbortController();
  const path = join(dir, "c.sock");
  const server = await fakeQmp(path, []);
  for (let i = 0; i < 3; i++) (await QmpClient.connect(path, ac.signal)).close();
  assert.equal(listeners(ac.signal), 0, "after successful connects");
  await assert.rejects(QmpClient.connect(join(dir, "missing.sock"), ac.signal), /ENOENT/);
  assert.equal(listeners(ac.signal), 0, "after a failed connect");
  await new Promise((r) => server.close(r));

  // A socket that accepts and never greets: the abort ends the handshake.
  const silentPath = join(dir, "silent.sock");
  const held: Socket[] = [];
  const silent = createServer((sock) => held.push(sock));
  await new Promise<void>((r) => silent.listen(silentPath, r));
  const stuck = new AbortController();
  const pending = QmpClient.connect(silentPath, stuck.signal);
  await new Promise((r) => silent.once("connection", r));
  assert.equal(listeners(stuck.signal), 1, "listening while the handshake runs");
  stuck.abort(new Error("gave up"));
  await assert.rejects(pending, /gave up/);
  assert.equal(listeners(stuck.signal), 0, "after an abort");
  await assert.rejects(QmpClient.connect(silentPath, stuck.signal), /gave up/, "an aborted signal fails at once");

  // A socket closed before any greeting (QEMU dying at start) rejects instead of hanging.
  const closing = new AbortController();
  silent.on("connection", (sock: Socket) => sock.destroy());
  for (const s of held.splice(0)) s.destroy();
  await assert.rejects(QmpClient.connect(silentPath, closing.signal), /closed before the greeting/);
  assert.equal(listeners(closing.signal), 0, "after a close before the greeting");
  await new Promise((r) => silent.close(r));
});
