import assert from "node:assert/strict";
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AccessDeniedError, assertAccess } from "./access.js";
import type { UserInfo } from "./users.js";

const UID = 23457;
const user: UserInfo = { name: "u", uid: UID, gid: UID, home: "/nonexistent", shell: "/bin/sh", groups: [UID] };
const root: UserInfo = { ...user, name: "root", uid: 0, gid: 0, groups: [0] };

async function useTree() {
  const dir = await mkdtemp(join(tmpdir(), "envd-access-"));
  await chmod(dir, 0o755);
  await mkdir(join(dir, "private"), { mode: 0o700 });
  await writeFile(join(dir, "private", "secret"), "s");
  await writeFile(join(dir, "readonly.txt"), "r", { mode: 0o644 });
  await mkdir(join(dir, "mine"));
  await chown(join(dir, "mine"), UID, UID);
  await mkdir(join(dir, "sticky"));
  await chmod(join(dir, "sticky"), 0o1777);
  await writeFile(join(dir, "sticky", "roots"), "x");
  await writeFile(join(dir, "sticky", "users"), "x");
  await chown(join(dir, "sticky", "users"), UID, UID);
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

const denied = (p: Promise<void>) => assert.rejects(p, AccessDeniedError);

test("an unprivileged user is held to the permission bits", async () => {
  await using t = await useTree();
  await denied(assertAccess(join(t.dir, "private", "secret"), user, "read"));
  await denied(assertAccess(join(t.dir, "private"), user, "list"));
  await assertAccess(join(t.dir, "readonly.txt"), user, "read");
  await denied(assertAccess(join(t.dir, "readonly.txt"), user, "write"));
  await denied(assertAccess(join(t.dir, "new.txt"), user, "create"));
  await assertAccess(join(t.dir, "mine", "a", "b.txt"), user, "create");
  await assertAccess(join(t.dir, "mine", "new.txt"), user, "write");
});

test("sticky directories protect other users' entries from removal", async () => {
  await using t = await useTree();
  await denied(assertAccess(join(t.dir, "sticky", "roots"), user, "remove"));
  await assertAccess(join(t.dir, "sticky", "users"), user, "remove");
  await assertAccess(join(t.dir, "sticky", "new"), user, "create");
});

test("root is never restricted", async () => {
  await using t = await useTree();
  await assertAccess(join(t.dir, "private", "secret"), root, "read");
  await assertAccess(join(t.dir, "sticky", "users"), root, "remove");
});
