import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rewriteLocation } from "./location-rewrite.js";

const P = "/proxy/sbx/8080";
const H = "10.11.0.2:8080";

describe("rewriteLocation", () => {
  it("prefixes root-relative redirects", () => {
    assert.equal(rewriteLocation("/sub/", P, H), "/proxy/sbx/8080/sub/");
    assert.equal(rewriteLocation("/?a=1#f", P, H), "/proxy/sbx/8080/?a=1#f");
  });
  it("rewrites absolute and scheme-relative URLs to the internal host", () => {
    assert.equal(rewriteLocation("http://10.11.0.2:8080/login?next=/x", P, H), "/proxy/sbx/8080/login?next=/x");
    assert.equal(rewriteLocation("//10.11.0.2:8080/a/", P, H), "/proxy/sbx/8080/a/");
  });
  it("leaves other hosts, other ports and relative paths alone", () => {
    assert.equal(rewriteLocation("https://example.com/x", P, H), "https://example.com/x");
    assert.equal(rewriteLocation("http://10.11.0.2:9090/x", P, H), "http://10.11.0.2:9090/x");
    assert.equal(rewriteLocation("http://10.11.0.2/x", P, H), "http://10.11.0.2/x");
    assert.equal(rewriteLocation("sub/", P, H), "sub/");
    assert.equal(rewriteLocation("mailto:a@b", P, H), "mailto:a@b");
  });
  it("matches a default port against an internal host on 80", () => {
    assert.equal(rewriteLocation("http://10.11.0.2/x", "/proxy/s/80", "10.11.0.2:80"), "/proxy/s/80/x");
  });
});
