import assert from "node:assert/strict";
import { scryptSync } from "node:crypto";
import { describe, it } from "node:test";
import { PlatformError } from "@wrenn/kit";
import {
  checkPasswordPolicy,
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  needsRehash,
  PASSWORD_MAX_BYTES,
  type ScryptParams,
  scryptMemoryBytes,
  verifyPassword,
} from "./password.js";

// Most tests use a cheap cost so the suite stays fast on two shared cores;
// one test runs the real default.
const CHEAP: ScryptParams = { logN: 10, r: 8, p: 1 };

function reasonOf(err: unknown): string | undefined {
  return err instanceof PlatformError ? err.reason : undefined;
}

describe("password hashing", () => {
  it("writes the self-describing format with the default parameters", async () => {
    const stored = await hashPassword("correct horse battery");
    assert.match(stored, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPassword("correct horse battery", stored), true);
    assert.equal(needsRehash(stored), false);
  });

  it("salts every hash", async () => {
    const a = await hashPassword("same password", CHEAP);
    const b = await hashPassword("same password", CHEAP);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword("same password", a), true);
    assert.equal(await verifyPassword("same password", b), true);
  });

  it("rejects wrong, case-changed, truncated and extended passwords", async () => {
    const stored = await hashPassword("Tr0ub4dor&3", CHEAP);
    for (const wrong of ["tr0ub4dor&3", "Tr0ub4dor&", "Tr0ub4dor&33", "", " Tr0ub4dor&3"]) {
      assert.equal(await verifyPassword(wrong, stored), false, wrong);
    }
  });

  it("matches composed and decomposed Unicode forms of the same password", async () => {
    const composed = "caf\u00e9-au-lait";
    const decomposed = "cafe\u0301-au-lait";
    const stored = await hashPassword(composed, CHEAP);
    assert.equal(await verifyPassword(decomposed, stored), true);
  });

  it("verifies a hash built by hand from the format description", async () => {
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync("hand made pw", salt, 32, { N: 1024, r: 8, p: 2 });
    const stored = `$scrypt$ln=10,r=8,p=2$${salt.toString("base64").replace(/=+$/, "")}$${key.toString("base64").replace(/=+$/, "")}`;
    assert.equal(await verifyPassword("hand made pw", stored), true);
    assert.equal(needsRehash(stored), true);
  });

  it("detects a tampered hash", async () => {
    const stored = await hashPassword("tamper target", CHEAP);
    const cut = stored.lastIndexOf("$") + 1;
    const key = Buffer.from(stored.slice(cut), "base64");
    key[0] = (key[0] ?? 0) ^ 1;
    const tampered = stored.slice(0, cut) + key.toString("base64").replace(/=+$/, "");
    assert.equal(await verifyPassword("tamper target", tampered), false);
    // A different spelling of the same bytes (non-zero padding bits) is not a hash this module wrote.
    const lastChar = stored.at(-1) ?? "A";
    const sibling = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".indexOf(lastChar) ^ 1
    ];
    await assert.rejects(
      verifyPassword("tamper target", stored.slice(0, -1) + sibling),
      (e) => reasonOf(e) === "PASSWORD_HASH_INVALID",
    );
  });

  it("answers false without a stored hash (unknown user) after doing the same work", async () => {
    assert.equal(await verifyPassword("whatever123", null), false);
    assert.equal(await verifyPassword("whatever123", undefined), false);
  });

  it("answers false for oversized passwords without hashing", async () => {
    const stored = await hashPassword("x".repeat(PASSWORD_MAX_BYTES), CHEAP);
    assert.equal(await verifyPassword("x".repeat(PASSWORD_MAX_BYTES), stored), true);
    assert.equal(await verifyPassword("x".repeat(PASSWORD_MAX_BYTES + 1), stored), false);
    assert.equal(await verifyPassword("x".repeat(10_000_000), stored), false);
  });

  it("refuses to hash passwords outside the policy", async () => {
    await assert.rejects(hashPassword("short12", CHEAP), (e) => reasonOf(e) === "PASSWORD_TOO_SHORT");
    await assert.rejects(
      hashPassword("y".repeat(PASSWORD_MAX_BYTES + 1), CHEAP),
      (e) => reasonOf(e) === "PASSWORD_TOO_LONG",
    );
  });

  it("treats a malformed stored value as a data problem, not a wrong password", async () => {
    const valid = await hashPassword("valid password", CHEAP);
    const broken = [
      "",
      "plaintext",
      "$2b$12$abcdefghijklmnopqrstuuJ0r3l0E6mQ2bJc9qS7uVwXyZ0aBcDeF",
      valid.replace("$scrypt$", "$scrypt2$"),
      valid.slice(0, -4),
      valid.replace(/\$[^$]+\$([^$]+)$/, "$$c2hvcnQ$$$1"),
    ];
    for (const stored of broken) {
      await assert.rejects(
        verifyPassword("valid password", stored),
        (e) => reasonOf(e) === "PASSWORD_HASH_INVALID",
        stored,
      );
    }
  });

  it("refuses stored parameters beyond the memory budget instead of allocating", async () => {
    const valid = await hashPassword("valid password", CHEAP);
    const greedy = valid.replace("ln=10", "ln=16");
    assert.ok(scryptMemoryBytes({ logN: 16, r: 8, p: 1 }) > 64 * 1024 * 1024);
    await assert.rejects(verifyPassword("valid password", greedy), (e) => reasonOf(e) === "PASSWORD_PARAMS_INVALID");
    await assert.rejects(
      hashPassword("valid password", { logN: 15, r: 8, p: 0 }),
      (e) => reasonOf(e) === "PASSWORD_PARAMS_INVALID",
    );
  });

  it("needsRehash compares against the wanted parameters", async () => {
    const cheap = await hashPassword("rehash me please", CHEAP);
    assert.equal(needsRehash(cheap), true);
    assert.equal(needsRehash(cheap, CHEAP), false);
    assert.equal(needsRehash(cheap, { ...CHEAP, p: 2 }), true);
    assert.equal(needsRehash("garbage"), true);
    assert.deepEqual(DEFAULT_SCRYPT_PARAMS, { logN: 15, r: 8, p: 1 });
  });
});

describe("checkPasswordPolicy", () => {
  it("counts characters for the minimum and bytes for the maximum", () => {
    assert.equal(checkPasswordPolicy(""), "too_short");
    assert.equal(checkPasswordPolicy("1234567"), "too_short");
    assert.equal(checkPasswordPolicy("12345678"), undefined);
    // Seven emoji are 14 UTF-16 units but 7 characters.
    assert.equal(checkPasswordPolicy("🔑".repeat(7)), "too_short");
    assert.equal(checkPasswordPolicy("🔑".repeat(8)), undefined);
    assert.equal(checkPasswordPolicy("a".repeat(1024)), undefined);
    assert.equal(checkPasswordPolicy("a".repeat(1025)), "too_long");
    // 256 four-byte emoji are exactly 1024 bytes; one more is too long.
    assert.equal(checkPasswordPolicy("🔑".repeat(256)), undefined);
    assert.equal(checkPasswordPolicy("🔑".repeat(257)), "too_long");
  });
});
