import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stripHopByHop, upstreamRequestHeaders } from "./hop-headers.js";

describe("hop-by-hop headers", () => {
  it("drops the standard set and anything Connection names", () => {
    const out = stripHopByHop({
      connection: "keep-alive, X-Secret",
      "keep-alive": "timeout=5",
      "x-secret": "1",
      "transfer-encoding": "chunked",
      upgrade: "h2c",
      te: "trailers",
      "content-type": "text/plain",
      "set-cookie": ["a=1", "b=2"],
    });
    assert.deepEqual(out, { "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] });
  });
  it("sets Host to the guest and appends X-Forwarded-For", () => {
    const out = upstreamRequestHeaders(
      { host: "agent:5007", "x-forwarded-for": "1.2.3.4", accept: "*/*" },
      { clientAddress: "127.0.0.1", internalHost: "10.0.0.2:80" },
    );
    assert.equal(out.host, "10.0.0.2:80");
    assert.equal(out["x-forwarded-for"], "1.2.3.4, 127.0.0.1");
    assert.equal(out["x-forwarded-host"], "agent:5007");
    assert.equal(out["x-forwarded-proto"], "http");
    assert.equal(out.accept, "*/*");
  });
  it("keeps Proto/Host set by the control plane", () => {
    const out = upstreamRequestHeaders(
      { host: "agent", "x-forwarded-proto": "https", "x-forwarded-host": "8080-sbx.wrenn.dev" },
      { clientAddress: undefined, internalHost: "10.0.0.2:80" },
    );
    assert.equal(out["x-forwarded-proto"], "https");
    assert.equal(out["x-forwarded-host"], "8080-sbx.wrenn.dev");
    assert.equal(out["x-forwarded-for"], undefined);
  });
});
