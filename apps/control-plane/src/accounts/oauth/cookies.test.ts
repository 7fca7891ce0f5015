import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expireCookie, parseCookies, serializeCookie } from "./cookies.js";

describe("OAuth cookies", () => {
  test("serialise with encoded values and the requested attributes", () => {
    assert.equal(
      serializeCookie("wrenn_oauth_name", "Zoë; Path=/x", {
        path: "/auth/",
        maxAgeSeconds: 60,
        httpOnly: false,
        secure: true,
      }),
      "wrenn_oauth_name=Zo%C3%AB%3B%20Path%3D%2Fx; Path=/auth/; Max-Age=60; SameSite=Lax; Secure",
    );
    assert.equal(
      serializeCookie("oauth_state", "a:b:login", { maxAgeSeconds: 600, httpOnly: true, secure: false }),
      "oauth_state=a%3Ab%3Alogin; Path=/; Max-Age=600; HttpOnly; SameSite=Lax",
    );
    assert.equal(
      expireCookie("oauth_state", { httpOnly: true, secure: false }),
      "oauth_state=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax",
    );
    assert.throws(
      () => serializeCookie("bad name", "v", { maxAgeSeconds: 1, httpOnly: true, secure: false }),
      TypeError,
    );
  });

  test("parse: first occurrence wins, quotes and encoding are undone, junk is skipped", () => {
    const jar = parseCookies('a=1; b="two%20words"; a=3; =nameless; novalue; c=%E0%A4%A; d=x=y; bad name=1');
    assert.deepEqual(Object.fromEntries(jar), { a: "1", b: "two words", d: "x=y" });
    assert.equal(parseCookies(undefined).size, 0);
    assert.equal(parseCookies(`a=${"x".repeat(20_000)}`).size, 0, "oversized headers are ignored");
  });

  test("round trip", () => {
    const value = "usr-abc:0123456789abcdef";
    const set = serializeCookie("oauth_link_user_id", value, { maxAgeSeconds: 10, httpOnly: true, secure: false });
    const pair = set.split(";")[0] ?? "";
    assert.equal(parseCookies(pair).get("oauth_link_user_id"), value);
  });
});
