import assert from "node:assert/strict";
import { test } from "node:test";
import { contentDisposition, contentTypeFor, isPrecompressed } from "./content-type.js";

test("contentTypeFor maps common extensions, case-insensitively", () => {
  assert.equal(contentTypeFor("a.TXT"), "text/plain; charset=utf-8");
  assert.equal(contentTypeFor("data.json"), "application/json");
  assert.equal(contentTypeFor("x.png"), "image/png");
  assert.equal(contentTypeFor("noext"), "application/octet-stream");
  assert.equal(contentTypeFor(".bashrc"), "application/octet-stream");
  assert.equal(isPrecompressed("a.tar.gz"), true);
  assert.equal(isPrecompressed("a.tar"), false);
});

test("contentDisposition quotes ASCII names and adds RFC 5987 for the rest", () => {
  assert.equal(contentDisposition("report.pdf"), 'inline; filename="report.pdf"');
  assert.equal(contentDisposition('a"b.txt'), `inline; filename="a_b.txt"; filename*=UTF-8''a%22b.txt`);
  assert.equal(
    contentDisposition("héllo (1).txt"),
    `inline; filename="h_llo (1).txt"; filename*=UTF-8''h%C3%A9llo%20%281%29.txt`,
  );
  assert.equal(contentDisposition("日本.txt"), `inline; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`);
});
