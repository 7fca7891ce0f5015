import assert from "node:assert/strict";
import { test } from "node:test";
import { basicAuthUsername, checkFileSignature, fileSignature } from "./auth.js";

test("reads the user from Basic auth as the e2b SDK sends it", () => {
  const header = `Basic ${Buffer.from("user:").toString("base64")}`;
  assert.equal(basicAuthUsername(header), "user");
  assert.equal(basicAuthUsername(`Basic ${Buffer.from("root").toString("base64")}`), "root");
  assert.equal(basicAuthUsername(`Basic ${Buffer.from(":").toString("base64")}`), undefined);
  assert.equal(basicAuthUsername("Bearer abc"), undefined);
  assert.equal(basicAuthUsername(null), undefined);
});

test("signature checks: valid, tampered, expired, malformed expiration", () => {
  const now = 1_800_000_000;
  const base = {
    token: "tok",
    path: "/home/user/a.txt",
    operation: "read" as const,
    username: "user",
    nowSeconds: now,
  };
  const sig = fileSignature({ ...base, expiration: now + 60 });
  assert.match(sig, /^v1_[A-Za-z0-9+/]+$/);
  assert.equal(checkFileSignature({ ...base, signature: sig, expiration: String(now + 60) }), undefined);
  assert.equal(checkFileSignature({ ...base, signature: sig, expiration: String(now + 61) }), "invalid");
  assert.equal(
    checkFileSignature({ ...base, operation: "write", signature: sig, expiration: String(now + 60) }),
    "invalid",
  );
  assert.equal(
    checkFileSignature({ ...base, signature: sig, expiration: String(now + 60), nowSeconds: now + 61 }),
    "expired",
  );
  assert.equal(checkFileSignature({ ...base, signature: sig, expiration: "soon" }), "bad_expiration");
  assert.equal(checkFileSignature({ ...base, signature: undefined, expiration: undefined }), "missing");
  const forever = fileSignature(base);
  assert.equal(checkFileSignature({ ...base, signature: forever, expiration: undefined }), undefined);
});
