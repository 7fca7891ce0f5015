import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  apiKeyLookupHash,
  generateApiKey,
  generateOneTimeToken,
  hashesEqual,
  isApiKeyFormat,
  isOneTimeTokenFormat,
  oneTimeTokenLookupHash,
  sha256Hex,
} from "./api-key.js";

describe("API keys", () => {
  it("generate wrn_ + 32 hex with its SHA-256 and 10-char display prefix", () => {
    const key = generateApiKey();
    assert.match(key.plaintext, /^wrn_[0-9a-f]{32}$/);
    assert.equal(key.hash, createHash("sha256").update(key.plaintext).digest("hex"));
    assert.equal(key.prefix, key.plaintext.slice(0, 10));
    assert.match(key.prefix, /^wrn_[0-9a-f]{6}$/);
  });

  it("are distinct", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generateApiKey().plaintext));
    assert.equal(seen.size, 1000);
  });

  it("look up by the stored hash only when well-formed", () => {
    const key = generateApiKey();
    assert.equal(apiKeyLookupHash(key.plaintext), key.hash);
    const rejected: unknown[] = [
      undefined,
      42,
      "",
      key.plaintext.toUpperCase(),
      key.plaintext.replace("wrn_", "WRN_"),
      key.plaintext.slice(0, -1),
      `${key.plaintext}0`,
      ` ${key.plaintext}`,
      `${key.plaintext}\n`,
      key.plaintext.replace(/.$/, "g"),
      `wrn_${"0".repeat(1_000_000)}`,
    ];
    for (const text of rejected) {
      assert.equal(apiKeyLookupHash(text), undefined, String(text).slice(0, 40));
      assert.equal(isApiKeyFormat(text), false);
    }
  });
});

describe("one-time tokens", () => {
  it("are 64 hex characters with their SHA-256", () => {
    const t = generateOneTimeToken();
    assert.match(t.token, /^[0-9a-f]{64}$/);
    assert.equal(t.hash, sha256Hex(t.token));
    assert.notEqual(t.token, generateOneTimeToken().token);
    assert.equal(oneTimeTokenLookupHash(t.token), t.hash);
  });

  it("refuse other shapes before hashing", () => {
    const t = generateOneTimeToken().token;
    for (const text of [t.slice(1), `${t}a`, t.toUpperCase(), generateApiKey().plaintext, null, ""]) {
      assert.equal(isOneTimeTokenFormat(text), false);
      assert.equal(oneTimeTokenLookupHash(text), undefined);
    }
  });
});

describe("hashesEqual", () => {
  it("compares digests and refuses anything else without throwing", () => {
    const a = sha256Hex("a");
    assert.equal(hashesEqual(a, sha256Hex("a")), true);
    assert.equal(hashesEqual(a, sha256Hex("b")), false);
    assert.equal(hashesEqual(a, a.slice(2)), false);
    assert.equal(hashesEqual(a, a.toUpperCase()), false);
    assert.equal(hashesEqual(a, undefined), false);
    assert.equal(hashesEqual("", ""), false);
  });
});
