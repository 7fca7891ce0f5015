import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { findExecutable } from "./find-executable.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "find-exe-"));
  await mkdir(join(dir, "a"));
  await mkdir(join(dir, "b"));
  await mkdir(join(dir, "b", "tool-dir"));
  await writeFile(join(dir, "a", "tool"), "#!/bin/sh\n");
  await chmod(join(dir, "a", "tool"), 0o644); // not executable: skipped
  await writeFile(join(dir, "b", "tool"), "#!/bin/sh\n");
  await chmod(join(dir, "b", "tool"), 0o755);
});
after(() => rm(dir, { recursive: true, force: true }));

test("takes the first executable regular file in PATH order", async () => {
  const a = join(dir, "a");
  const b = join(dir, "b");
  assert.equal(await findExecutable("tool", `${a}:${b}`), join(b, "tool"));
  assert.equal(await findExecutable("tool-dir", b), undefined); // a directory is not a program
  assert.equal(await findExecutable("missing", `${a}:${b}`), undefined);
});

test("ignores empty and relative PATH entries", async () => {
  assert.equal(await findExecutable("tool", `::relative:${join(dir, "b")}`), join(dir, "b", "tool"));
  assert.equal(await findExecutable("tool", ""), undefined);
});

test("a name with a slash is checked as given", async () => {
  assert.equal(await findExecutable(join(dir, "b", "tool"), ""), join(dir, "b", "tool"));
  assert.equal(await findExecutable(join(dir, "a", "tool"), ""), undefined);
});
