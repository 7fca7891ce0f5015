import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { agentProxyPath, parseSandboxHost, stripProxyPrefix } from "./sandbox-host.js";

const ID = `cl-${"0a".repeat(12)}1`;

describe("sandbox proxy host names", () => {
  test("parses {port}-{id}.{domain} with or without a listen port, case-insensitively", () => {
    assert.deepEqual(parseSandboxHost(`8888-${ID}.localhost:8080`, "localhost"), { port: 8888, sandboxId: ID });
    assert.deepEqual(parseSandboxHost(`80-${ID.toUpperCase()}.Sbx.Example.com`, "sbx.example.com"), {
      port: 80,
      sandboxId: ID,
    });
  });
  test("other hosts are not proxy hosts; malformed proxy hosts are errors", () => {
    assert.equal(parseSandboxHost("localhost:8080", "localhost"), undefined);
    assert.equal(parseSandboxHost(`8888-${ID}.evil.com`, "localhost"), undefined);
    assert.equal(parseSandboxHost(undefined, "localhost"), undefined);
    assert.deepEqual(parseSandboxHost(`0-${ID}.localhost`, "localhost"), { error: "bad_port" });
    assert.deepEqual(parseSandboxHost(`65536-${ID}.localhost`, "localhost"), { error: "bad_port" });
    assert.deepEqual(parseSandboxHost("8888-cl-abc.localhost", "localhost"), { error: "bad_id" });
  });
  test("agent paths are concatenated, never cleaned", () => {
    const t = { port: 8000, sandboxId: ID };
    assert.equal(agentProxyPath(t, "/dir/"), `/proxy/${ID}/8000/dir/`);
    assert.equal(agentProxyPath(t, "/a//b/../c?x=1"), `/proxy/${ID}/8000/a//b/../c?x=1`);
  });
  test("redirects lose the agent prefix; foreign locations are untouched", () => {
    const t = { port: 8000, sandboxId: ID };
    assert.equal(stripProxyPrefix(`/proxy/${ID}/8000/dir/`, t), "/dir/");
    assert.equal(stripProxyPrefix(`/proxy/${ID}/8000`, t), "/");
    assert.equal(stripProxyPrefix(`/proxy/${ID}/8000?a=1`, t), "/?a=1");
    assert.equal(stripProxyPrefix(`/proxy/${ID}/80001/x`, t), `/proxy/${ID}/80001/x`);
    assert.equal(stripProxyPrefix("https://example.com/x", t), "https://example.com/x");
  });
});
