import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Check, compileCheck, createAjv } from "../testing/json-validator.js";
import { exampleId, ID_BODY_LENGTH, ID_PREFIXES, type IdKind, publicIdSchema } from "./ids.js";
import { EnvVars, FilePath, ProcessSelector, ProcessTag, SafeName } from "./strings.js";

const ajv = createAjv({ strict: true });
const checkOf = (schema: object): Check => compileCheck(ajv, schema);
const accepts = (check: Check, value: unknown): boolean => check(value).length === 0;

describe("public ids", () => {
  it("accept prefix + 25 base36 characters of their own kind only", () => {
    const kinds = Object.keys(ID_PREFIXES) as IdKind[];
    for (const kind of kinds) {
      const check = checkOf(publicIdSchema(kind, "test"));
      const prefix = ID_PREFIXES[kind];
      const good = exampleId(kind);
      assert.equal(good.length, prefix.length + ID_BODY_LENGTH);
      assert.ok(accepts(check, good), good);
      assert.ok(accepts(check, `${prefix}${"0".repeat(25)}`));
      assert.ok(accepts(check, `${prefix}${"z".repeat(25)}`));
      for (const bad of [
        "",
        prefix,
        `${prefix}${"a".repeat(24)}`,
        `${prefix}${"a".repeat(26)}`,
        `${prefix}${"A".repeat(25)}`,
        `${prefix}${"a".repeat(24)}-`,
        `${prefix}${"a".repeat(24)}é`,
        ` ${good}`,
        `${good}\n`,
        prefix.toUpperCase() + "a".repeat(25),
        123,
        null,
      ]) {
        assert.ok(!accepts(check, bad), `${kind} accepted ${JSON.stringify(bad)}`);
      }
      for (const other of kinds.filter((k) => k !== kind)) {
        assert.ok(!accepts(check, exampleId(other)), `${kind} accepted ${exampleId(other)}`);
      }
    }
  });
});

describe("names and strings", () => {
  it("SafeName: a letter or digit, then up to 63 of [A-Za-z0-9._-]", () => {
    const check = checkOf(SafeName);
    for (const good of ["a", "Z", "0", "my-template", "A.b_c-1", `a${"b".repeat(63)}`]) {
      assert.ok(accepts(check, good), good);
    }
    for (const bad of ["", "-a", ".a", "_a", "a b", "a/b", "../x", "é", "a:b", `a${"b".repeat(64)}`, "a\n"]) {
      assert.ok(!accepts(check, bad), JSON.stringify(bad));
    }
  });

  it("ProcessTag is a SafeName that is not all digits; a selector may be either", () => {
    const tag = checkOf(ProcessTag);
    const selector = checkOf(ProcessSelector);
    assert.ok(accepts(tag, "bg-test") && accepts(tag, "1a") && accepts(tag, "proc-1a2b3c4d"));
    assert.ok(!accepts(tag, "1234") && !accepts(tag, "-x"));
    assert.ok(accepts(selector, "1234") && accepts(selector, "bg-test"));
    assert.ok(!accepts(selector, "12 34") && !accepts(selector, ""));
  });

  it("FilePath: 1 to 4096 characters without NUL", () => {
    const check = checkOf(FilePath);
    assert.ok(accepts(check, "/home/user/a b.txt") && accepts(check, "relative/x") && accepts(check, "/"));
    assert.ok(accepts(check, `/${"a".repeat(4095)}`));
    assert.ok(!accepts(check, "") && !accepts(check, "/a\u0000b") && !accepts(check, `/${"a".repeat(4096)}`));
  });

  it("EnvVars rejects names with = or NUL, and too many entries", () => {
    const check = checkOf(EnvVars);
    assert.ok(accepts(check, { PATH: "/bin", "weird.name": "x", EMPTY: "" }));
    assert.ok(!accepts(check, { "A=B": "x" }));
    assert.ok(!accepts(check, { "A\u0000": "x" }));
    assert.ok(!accepts(check, { "": "x" }));
    assert.ok(!accepts(check, { A: 1 }));
    assert.ok(!accepts(check, Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`V${i}`, "x"]))));
  });
});
