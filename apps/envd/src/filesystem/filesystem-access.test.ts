import assert from "node:assert/strict";
import { chmod, chown, lstat, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { TEST_USER_UID, useEnvd } from "../testing/test-envd.js";
import { codeName, codeOf, fsClient } from "./fs-test-client.js";

describe("Filesystem RPCs check the request user's permissions", { timeout: 20_000 }, () => {
  test("user cannot look into a root-only (0700) directory; root can", async () => {
    await using t = await useEnvd();
    const secret = join(t.dir, "secret");
    await mkdir(secret, { mode: 0o700 });
    await chmod(secret, 0o700);
    await writeFile(join(secret, "key"), "k");
    const user = fsClient(t.url, { user: "user" });
    const denied = async (p: Promise<unknown>, what: string) =>
      assert.equal(codeName(await codeOf(p)), codeName(Code.PermissionDenied), what);

    await denied(user.stat({ path: join(secret, "key") }), "stat inside");
    await denied(user.listDir({ path: secret }), "list");
    await denied(user.remove({ path: join(secret, "key") }), "remove inside");
    await denied(user.move({ source: join(secret, "key"), destination: join(t.userHome, "stolen") }), "move out");
    await denied(user.watchDir({ path: secret })[Symbol.asyncIterator]().next(), "watch");
    await denied(user.createWatcher({ path: secret }), "create watcher");
    // The directory itself may be stat'ed (only its parent must be searchable).
    assert.equal((await user.stat({ path: secret })).entry?.permissions, "drwx------");

    const root = fsClient(t.url);
    assert.equal((await root.listDir({ path: secret })).entries.length, 1);
  });

  test("user cannot write into a root-owned 0755 directory (an /etc look-alike)", async () => {
    await using t = await useEnvd();
    const etc = join(t.dir, "etc-like");
    await mkdir(etc, { mode: 0o755 });
    await writeFile(join(etc, "passwd"), "root:x:0:0");
    const user = fsClient(t.url, { user: "user" });
    const denied = async (p: Promise<unknown>, what: string) =>
      assert.equal(codeName(await codeOf(p)), codeName(Code.PermissionDenied), what);

    await denied(user.makeDir({ path: join(etc, "new") }), "mkdir");
    await denied(user.makeDir({ path: join(etc, "new", "deeper") }), "mkdir -p");
    await denied(user.remove({ path: join(etc, "passwd") }), "remove");
    await denied(user.move({ source: join(etc, "passwd"), destination: join(t.userHome, "p") }), "move out");
    await writeFile(join(t.userHome, "evil"), "x");
    await chown(join(t.userHome, "evil"), TEST_USER_UID, TEST_USER_UID);
    await denied(user.move({ source: join(t.userHome, "evil"), destination: join(etc, "passwd") }), "move in");
    assert.equal((await stat(join(etc, "passwd"))).size, 10, "untouched");
    // Reading is fine.
    assert.equal((await user.listDir({ path: etc })).entries.length, 1);
  });

  test("recursive remove as user is refused as a whole when a subdirectory is root's", async () => {
    await using t = await useEnvd();
    const proj = join(t.userHome, "proj");
    await mkdir(join(proj, "locked"), { recursive: true });
    await writeFile(join(proj, "a.txt"), "a");
    await writeFile(join(proj, "locked", "b.txt"), "b");
    await chown(proj, TEST_USER_UID, TEST_USER_UID);
    await chown(join(proj, "a.txt"), TEST_USER_UID, TEST_USER_UID);
    const user = fsClient(t.url, { user: "user" });
    assert.equal(await codeOf(user.remove({ path: "proj" })), Code.PermissionDenied);
    assert.ok((await lstat(join(proj, "a.txt"))).isFile(), "nothing was removed");

    await chown(join(proj, "locked"), TEST_USER_UID, TEST_USER_UID);
    await user.remove({ path: "~/proj" });
    await assert.rejects(lstat(proj));
  });
});
