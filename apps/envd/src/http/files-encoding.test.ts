import assert from "node:assert/strict";
import { test } from "node:test";
import { negotiateEncoding, requestBodyEncoding } from "./files-encoding.js";

test("negotiateEncoding follows Accept-Encoding q-values", () => {
  assert.equal(negotiateEncoding(undefined), "identity");
  assert.equal(negotiateEncoding(""), "identity");
  assert.equal(negotiateEncoding("gzip"), "gzip");
  assert.equal(negotiateEncoding("gzip, deflate, br"), "gzip");
  assert.equal(negotiateEncoding("GZIP;q=0.8"), "gzip");
  assert.equal(negotiateEncoding("gzip;q=0.5, identity"), "identity");
  assert.equal(negotiateEncoding("br, deflate"), "identity");
  assert.equal(negotiateEncoding("*"), "identity");
  assert.equal(negotiateEncoding("identity;q=0, *"), "gzip");
  assert.equal(negotiateEncoding("gzip;q=0"), "identity");
  assert.equal(negotiateEncoding("x-gzip"), "gzip");
});

test("negotiateEncoding: 406 cases and preferIdentity", () => {
  assert.equal(negotiateEncoding("identity;q=0"), undefined);
  assert.equal(negotiateEncoding("br, identity;q=0"), undefined);
  assert.equal(negotiateEncoding("*;q=0"), undefined);
  assert.equal(negotiateEncoding("gzip;q=0, identity;q=0"), undefined);
  assert.equal(negotiateEncoding("gzip, identity;q=0"), "gzip");
  assert.equal(negotiateEncoding("gzip", { preferIdentity: true }), "identity");
  assert.equal(negotiateEncoding("gzip, identity;q=0", { preferIdentity: true }), "gzip");
});

test("requestBodyEncoding accepts identity and gzip only", () => {
  assert.equal(requestBodyEncoding(undefined), "identity");
  assert.equal(requestBodyEncoding("identity"), "identity");
  assert.equal(requestBodyEncoding(" GZIP "), "gzip");
  assert.equal(requestBodyEncoding("br"), undefined);
  assert.equal(requestBodyEncoding("gzip, br"), undefined);
});
