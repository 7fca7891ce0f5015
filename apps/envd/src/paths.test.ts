import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidPathError, resolvePath } from "./paths.js";
import type { UserInfo } from "./users.js";

const user: UserInfo = { name: "user", uid: 1000, gid: 1000, home: "/home/user", shell: "/bin/sh", groups: [1000] };

test("resolves tilde, relative, absolute and empty paths", () => {
  assert.equal(resolvePath("~", user), "/home/user");
  assert.equal(resolvePath("~/a/b.txt", user), "/home/user/a/b.txt");
  assert.equal(resolvePath("notes.txt", user), "/home/user/notes.txt");
  assert.equal(resolvePath("notes.txt", user, "/work"), "/home/user/notes.txt");
  assert.equal(resolvePath("", user), "/home/user");
  assert.equal(resolvePath("", user, "/work"), "/work");
  assert.equal(resolvePath("/etc//hosts/", user), "/etc/hosts/");
});

test("dot-dot segments are normalised and cannot climb above the root", () => {
  assert.equal(resolvePath("../../../../etc/passwd", user), "/etc/passwd");
  assert.equal(resolvePath("/../../x", user), "/x");
  assert.equal(resolvePath("~/../../root", user), "/root");
});

test("rejects NUL bytes and absurdly long paths", () => {
  assert.throws(() => resolvePath("a\0b", user), InvalidPathError);
  assert.throws(() => resolvePath(`/${"a".repeat(5000)}`, user), InvalidPathError);
});
