import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvdTokens } from "./envd-token.js";

describe("EnvdTokens", () => {
  const secret = "s".repeat(40);

  it("gives each capsule its own stable 64-hex token", () => {
    const tokens = new EnvdTokens(secret);
    const a = tokens.forCapsule("cl-aaaaaaaaaaaaaaaaaaaaaaaaa");
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(new EnvdTokens(secret).forCapsule("cl-aaaaaaaaaaaaaaaaaaaaaaaaa"), a, "same on every resume");
    assert.notEqual(tokens.forCapsule("cl-bbbbbbbbbbbbbbbbbbbbbbbbb"), a);
  });

  it("depends on the server secret", () => {
    const id = "cl-aaaaaaaaaaaaaaaaaaaaaaaaa";
    assert.notEqual(new EnvdTokens("t".repeat(40)).forCapsule(id), new EnvdTokens(secret).forCapsule(id));
  });
});
