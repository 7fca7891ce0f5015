import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { UnknownUserError, UserDatabase } from "./users.js";

async function useEtc(passwd: string, group: string) {
  const dir = await mkdtemp(join(tmpdir(), "envd-users-"));
  await writeFile(join(dir, "passwd"), passwd);
  await writeFile(join(dir, "group"), group);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test("parses users with primary and supplementary groups", async () => {
  await using etc = await useEtc(
    "root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000::/home/user:/bin/bash\nbroken line\n",
    "root:x:0:\nsudo:x:27:user,other\nuser:x:1000:\n",
  );
  const db = new UserDatabase(etc.dir);
  assert.deepEqual(db.lookup("user"), {
    name: "user",
    uid: 1000,
    gid: 1000,
    home: "/home/user",
    shell: "/bin/bash",
    groups: [1000, 27],
  });
  assert.equal(db.lookup("root").home, "/root");
  assert.equal(db.groupName(27), "sudo");
  assert.equal(db.groupName(4242), "4242");
  assert.equal(db.userName(1000), "user");
  assert.throws(() => db.lookup("nobody-here"), UnknownUserError);
});

test("sees accounts added after the first lookup (cache keyed on mtime)", async () => {
  await using etc = await useEtc("root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n");
  const db = new UserDatabase(etc.dir);
  assert.throws(() => db.lookup("late"), UnknownUserError);
  await writeFile(join(etc.dir, "passwd"), "root:x:0:0:root:/root:/bin/sh\nlate:x:5:5::/home/late:/bin/sh\n");
  const future = new Date(Date.now() + 5000);
  await utimes(join(etc.dir, "passwd"), future, future);
  assert.equal(db.lookup("late").uid, 5);
});

test("an unknown user's error message is bounded in length", () => {
  const err = new UnknownUserError("x".repeat(10_000));
  assert.ok(err.message.length < 100);
});
