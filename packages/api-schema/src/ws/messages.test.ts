import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Check, compileCheck, createAjv } from "../testing/json-validator.js";
import {
  ExecStreamClientMessage,
  ExecStreamServerMessage,
  ProcessStreamClientMessage,
  PtyClientMessage,
  PtyServerMessage,
} from "./messages.js";

const ajv = createAjv({ strict: true });
const valid = (check: Check, value: unknown): boolean => check(value).length === 0;

/** The `type` constants of a union's members. */
function discriminants(union: { anyOf?: readonly { properties: { type: { const: string } } }[] }): string[] {
  return (union.anyOf ?? []).map((member) => member.properties.type.const);
}

describe("WebSocket messages", () => {
  it("are unions discriminated by a distinct `type` per member", () => {
    for (const union of [ExecStreamClientMessage, ExecStreamServerMessage, PtyClientMessage, PtyServerMessage]) {
      const types = discriminants(union);
      assert.ok(types.length > 1);
      assert.equal(new Set(types).size, types.length, types.join(","));
    }
    assert.deepEqual(discriminants(PtyServerMessage).sort(), ["error", "exit", "output", "ping", "started"]);
    assert.deepEqual(discriminants(ExecStreamServerMessage).sort(), ["error", "exit", "start", "stderr", "stdout"]);
  });

  it("exec stream: start needs cmd; stop and auth; unknown types rejected", () => {
    const check = compileCheck(ajv, ExecStreamClientMessage);
    assert.ok(valid(check, { type: "start", cmd: "tail", args: ["-f", "/var/log/syslog"] }));
    assert.ok(valid(check, { type: "start", cmd: "ls", envs: { A: "b" }, cwd: "/tmp", extra: true }));
    assert.ok(valid(check, { type: "stop" }) && valid(check, { type: "auth", token: "jwt" }));
    assert.ok(!valid(check, { type: "start" }) && !valid(check, { type: "start", cmd: "" }));
    assert.ok(!valid(check, { type: "input", data: "" }) && !valid(check, { cmd: "ls" }));
  });

  it("pty: start with optional fields, connect by tag, base64 input, resize, kill, pong", () => {
    const check = compileCheck(ajv, PtyClientMessage);
    const good = [
      { type: "start" },
      { type: "start", cmd: "/bin/bash", args: [], cols: 80, rows: 24, envs: { TERM: "xterm" }, cwd: "/", user: "u" },
      { type: "connect", tag: "pty-abc123de" },
      { type: "input", data: "bHMK" },
      { type: "input", data: "" },
      { type: "resize", cols: 0, rows: 40 },
      { type: "kill" },
      { type: "pong" },
    ];
    for (const message of good) assert.ok(valid(check, message), JSON.stringify(message));
    const bad = [
      { type: "connect" },
      { type: "input", data: "not base64!" },
      { type: "resize", cols: -1, rows: 1 },
      { type: "resize", cols: 1 },
      { type: "start", cols: 0 },
      { type: "start", cols: 70_000 },
      { type: "ping" },
    ];
    for (const message of bad) assert.ok(!valid(check, message), JSON.stringify(message));
  });

  it("pty server messages carry what clients read", () => {
    const check = compileCheck(ajv, PtyServerMessage);
    assert.ok(valid(check, { type: "started", tag: "pty-abc123de", pid: 42 }));
    assert.ok(valid(check, { type: "error", data: "gone", fatal: true }));
    assert.ok(!valid(check, { type: "error", data: "gone" }), "fatal is always sent");
    assert.ok(!valid(check, { type: "exit" }));
  });

  it("process stream: the client only authenticates", () => {
    const check = compileCheck(ajv, ProcessStreamClientMessage);
    assert.ok(valid(check, { type: "auth", token: "jwt" }));
    assert.ok(!valid(check, { type: "stop" }) && !valid(check, { type: "auth", token: "" }));
  });
});
