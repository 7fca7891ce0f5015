import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseProxyPath } from "./proxy-path.js";

describe("parseProxyPath", () => {
  it("keeps the remainder byte for byte, trailing slash and query included", () => {
    const p = parseProxyPath("/proxy/sbx_1/8080/a//b/../c/?x=1&y=%2F");
    assert.deepEqual(p, {
      kind: "target",
      target: { sandboxId: "sbx_1", port: 8080, prefix: "/proxy/sbx_1/8080", upstreamPath: "/a//b/../c/?x=1&y=%2F" },
    });
  });
  it("maps a bare prefix to / and keeps a query on it", () => {
    assert.equal(parseProxyPath("/proxy/s/80").kind, "target");
    const p = parseProxyPath("/proxy/s/80?q=1");
    assert.equal(p.kind === "target" && p.target.upstreamPath, "/?q=1");
    const q = parseProxyPath("/proxy/s/80/");
    assert.equal(q.kind === "target" && q.target.upstreamPath, "/");
  });
  it("rejects bad ports and ids", () => {
    for (const url of [
      "/proxy/s/0/",
      "/proxy/s/65536/",
      "/proxy/s/abc/",
      "/proxy/s/-1",
      "/proxy/s/080000",
      "/proxy/s",
    ]) {
      assert.equal(parseProxyPath(url).kind, "invalid", url);
    }
    assert.equal(parseProxyPath("/proxy/a%2Fb/80/").kind, "invalid");
    assert.equal(parseProxyPath("/proxy//80/").kind, "invalid");
  });
  it("ignores other routes", () => {
    assert.equal(parseProxyPath("/hostagent.v1.HostAgentService/Ping").kind, "not-proxy");
  });
});
