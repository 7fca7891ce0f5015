import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { toPublicId } from "../apps/control-plane/src/ids/public-id.js";
import { json, type Stack, stackSkipReason, startStack } from "./stack.js";
import { WsClient as Client } from "./ws-client.js";

describe("capsule WebSockets: exec stream, PTY, process stream", { skip: stackSkipReason }, () => {
  let s: Stack;
  let id: string;
  let wsBase: string;
  let jwt: string;
  const keyHeader = () => ({ "x-api-key": s.teamA.apiKey });

  before(async () => {
    s = await startStack();
    wsBase = s.base.replace("http", "ws");
    const res = await s.api("/v1/capsules", json({}));
    id = ((await res.json()) as { id: string }).id;
    jwt = s.cp.jwt.signUser({
      userId: toPublicId("user", s.teamA.userId),
      teamId: toPublicId("team", s.teamA.teamId),
      role: "owner",
      email: "a@example.com",
      name: "A",
    });
  });
  after(async () => {
    await s?.[Symbol.asyncDispose]();
  });

  test("exec stream: start, stdout and stderr as they come, exit code, then close", async () => {
    const c = new Client(`${wsBase}/v1/capsules/${id}/exec/stream`, keyHeader());
    await c.open();
    c.send({ type: "start", cmd: "/bin/sh", args: ["-c", "echo one; echo two >&2; sleep 0.2; echo three; exit 4"] });
    const exit = await c.waitFor((m) => m.type === "exit");
    assert.equal(exit["exit_code"], 4);
    assert.ok(c.messages[0]?.type === "start" && Number(c.messages[0]["pid"]) > 0);
    const out = c.messages
      .filter((m) => m.type === "stdout")
      .map((m) => m["data"])
      .join("");
    const err = c.messages
      .filter((m) => m.type === "stderr")
      .map((m) => m["data"])
      .join("");
    assert.equal(out, "one\nthree\n");
    assert.equal(err, "two\n");
    assert.equal(await c.closed, 1000);
  });

  test("exec stream: stop cancels a long command", async () => {
    const c = new Client(`${wsBase}/v1/capsules/${id}/exec/stream`, keyHeader());
    await c.open();
    c.send({ type: "start", cmd: "/bin/sleep", args: ["600"] });
    await c.waitFor((m) => m.type === "start");
    c.send({ type: "stop" });
    await c.closed;
    const { processes } = (await (await s.api(`/v1/capsules/${id}/processes`)).json()) as {
      processes: { cmd: string; args?: string[] }[];
    };
    assert.ok(!processes.some((p) => p.cmd === "/bin/sleep" && p.args?.[0] === "600"), "the command was stopped");
  });

  test("first-message auth with a JWT works; a bad token or no auth closes with 1008", async () => {
    const good = new Client(`${wsBase}/v1/capsules/${id}/exec/stream`);
    await good.open();
    good.send({ type: "auth", token: jwt });
    good.send({ type: "start", cmd: "/bin/echo", args: ["authed"] });
    await good.waitFor((m) => m.type === "exit");
    assert.deepEqual(
      good.messages.filter((m) => m.type === "stdout").map((m) => m["data"]),
      ["authed\n"],
    );

    const bad = new Client(`${wsBase}/v1/capsules/${id}/exec/stream`);
    await bad.open();
    bad.send({ type: "auth", token: "not-a-jwt" });
    assert.equal(await bad.closed, 1008);
    assert.equal(bad.messages[0]?.type, "error");

    const none = new Client(`${wsBase}/v1/capsules/${id}/exec/stream`);
    await none.open();
    none.send({ type: "start", cmd: "/bin/true" });
    assert.equal(await none.closed, 1008);
  });

  test("another team's key cannot reach the capsule over a WebSocket", async () => {
    const c = new Client(`${wsBase}/v1/capsules/${id}/exec/stream`, { "x-api-key": s.teamB.apiKey });
    await c.open();
    const err = await c.waitFor((m) => m.type === "error");
    assert.match(String(err["data"]), /not found/);
    await c.closed;
  });

  test("PTY: start, type, resize, reattach after a dropped socket, kill", async () => {
    const c = new Client(`${wsBase}/v1/capsules/${id}/pty`, keyHeader());
    await c.open();
    c.send({ type: "start", cmd: "/bin/sh", cols: 100, rows: 30 });
    const started = await c.waitFor((m) => m.type === "started");
    const tag = String(started["tag"]);
    assert.match(tag, /^pty-[0-9a-f]{8}$/);
    for (const ch of "echo typed-$((6*7))\n") c.send({ type: "input", data: Buffer.from(ch).toString("base64") });
    await c.waitFor(() => c.output().includes("typed-42"));
    c.send({ type: "resize", cols: 120, rows: 40 });
    c.send({ type: "input", data: Buffer.from("stty size\n").toString("base64") });
    await c.waitFor(() => c.output().includes("40 120"));
    c.ws.terminate();

    const again = new Client(`${wsBase}/v1/capsules/${id}/pty`, keyHeader());
    await again.open();
    again.send({ type: "connect", tag });
    const restarted = await again.waitFor((m) => m.type === "started");
    assert.equal(restarted["pid"], started["pid"], "the same process, reattached");
    again.send({ type: "input", data: Buffer.from("echo still-$((1+1))\n").toString("base64") });
    await again.waitFor(() => again.output().includes("still-2"));
    again.send({ type: "kill" });
    const exit = await again.waitFor((m) => m.type === "exit");
    assert.equal(typeof exit["exit_code"], "number");
    assert.equal(await again.closed, 1000);
  });

  test("PTY: a burst of 2000 keystrokes arrives complete and in order", async () => {
    const c = new Client(`${wsBase}/v1/capsules/${id}/pty`, keyHeader());
    await c.open();
    c.send({ type: "start", cmd: "/bin/sh", args: ["-c", "stty raw -echo; head -c 2000 | md5sum"] });
    await c.waitFor((m) => m.type === "started");
    const text = Array.from({ length: 2000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
    for (const ch of text) c.send({ type: "input", data: Buffer.from(ch).toString("base64") });
    const { createHash } = await import("node:crypto");
    const want = createHash("md5").update(text).digest("hex");
    await c.waitFor(() => c.output().includes(want), 30_000);
    await c.waitFor((m) => m.type === "exit");
  });

  test("process stream: attach to a background process by tag and see its output to the end", async () => {
    await s.api(
      `/v1/capsules/${id}/exec`,
      json({
        cmd: "/bin/sh",
        args: ["-c", "sleep 0.5; for i in 1 2 3; do echo tick-$i; sleep 0.1; done"],
        background: true,
        tag: "ticker",
      }),
    );
    const c = new Client(`${wsBase}/v1/capsules/${id}/processes/ticker/stream`, keyHeader());
    await c.open();
    const exit = await c.waitFor((m) => m.type === "exit");
    assert.equal(exit["exit_code"], 0);
    const out = c.messages
      .filter((m) => m.type === "stdout")
      .map((m) => m["data"])
      .join("");
    assert.equal(out, "tick-1\ntick-2\ntick-3\n");
  });

  test("a plain GET on a WebSocket route is told to upgrade", async () => {
    const res = await s.api(`/v1/capsules/${id}/pty`);
    assert.equal(res.status, 426);
  });
});
