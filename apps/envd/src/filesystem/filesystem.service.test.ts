import assert from "node:assert/strict";
import { chown, lstat, mkdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { FileType } from "@wrenn/protocol/envd/filesystem";
import { TEST_USER_UID, useEnvd } from "../testing/test-envd.js";
import { codeOf, fsClient } from "./fs-test-client.js";
import { writeMetadata } from "./metadata.js";

for (const binary of [false, true]) {
  describe(`Filesystem RPCs (${binary ? "binary" : "JSON"})`, { timeout: 20_000 }, () => {
    test("Stat reports a file the way E2B does; errors for missing and NUL paths", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary });
      const file = join(t.dir, "hello.txt");
      await writeFile(file, "hello", { mode: 0o644 });
      const { entry } = await fs.stat({ path: file });
      assert.ok(entry);
      assert.equal(entry.name, "hello.txt");
      assert.equal(entry.path, file);
      assert.equal(entry.type, FileType.FILE);
      assert.equal(entry.size, 5n);
      assert.equal(entry.mode, 0o644);
      assert.equal(entry.permissions, "-rw-r--r--");
      assert.equal(entry.owner, "root");
      assert.equal(entry.group, "root");
      assert.equal(entry.symlinkTarget, undefined);
      assert.ok(entry.modifiedTime);
      // timestampDate rounds the nanoseconds to the nearest millisecond.
      const { mtimeNs } = await stat(file, { bigint: true });
      assert.equal(timestampDate(entry.modifiedTime).getTime(), Number((mtimeNs + 500_000n) / 1_000_000n));

      assert.equal(await codeOf(fs.stat({ path: join(t.dir, "missing") })), Code.NotFound);
      assert.equal(await codeOf(fs.stat({ path: `${t.dir}/a\0b` })), Code.InvalidArgument);
    });

    test("MakeDir creates parents, reports AlreadyExists and InvalidArgument", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary });
      const nested = join(t.dir, "a", "b", "c");
      const { entry } = await fs.makeDir({ path: nested });
      assert.equal(entry?.type, FileType.DIRECTORY);
      assert.equal(entry?.path, nested);
      assert.ok((await stat(nested)).isDirectory());
      assert.equal(await codeOf(fs.makeDir({ path: nested })), Code.AlreadyExists);
      await writeFile(join(t.dir, "file"), "x");
      assert.equal(await codeOf(fs.makeDir({ path: join(t.dir, "file") })), Code.InvalidArgument);
      assert.equal(await codeOf(fs.makeDir({ path: join(t.dir, "file", "below") })), Code.InvalidArgument);
    });

    test("MakeDir as user: relative paths land in the home, every new directory is the user's", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary, user: "user" });
      const { entry } = await fs.makeDir({ path: "proj/src" });
      assert.equal(entry?.path, join(t.userHome, "proj", "src"));
      assert.equal(entry?.owner, "user");
      assert.equal(entry?.group, "user");
      assert.equal((await stat(join(t.userHome, "proj"))).uid, TEST_USER_UID);
      assert.equal((await stat(join(t.userHome, "proj", "src"))).uid, TEST_USER_UID);
      const home = await fs.stat({ path: "~" });
      assert.equal(home.entry?.path, t.userHome);
    });

    test("Move renames into new parent directories; NotFound for a missing source", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary });
      const src = join(t.dir, "src.txt");
      await writeFile(src, "data");
      const dest = join(t.dir, "x", "y", "dest.txt");
      const { entry } = await fs.move({ source: src, destination: dest });
      assert.equal(entry?.path, dest);
      assert.equal(entry?.name, "dest.txt");
      assert.equal(entry?.size, 4n);
      await assert.rejects(lstat(src));
      assert.equal(await codeOf(fs.move({ source: src, destination: dest })), Code.NotFound);
    });

    test("Remove deletes files, links (not targets) and whole trees; NotFound when missing", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary });
      const tree = join(t.dir, "tree");
      await mkdir(join(tree, "a", "b"), { recursive: true });
      await writeFile(join(tree, "a", "b", "f"), "x");
      const target = join(t.dir, "target.txt");
      await writeFile(target, "keep");
      await symlink(target, join(t.dir, "link"));
      await fs.remove({ path: join(t.dir, "link") });
      assert.ok((await stat(target)).isFile());
      await fs.remove({ path: tree });
      await assert.rejects(lstat(tree));
      assert.equal(await codeOf(fs.remove({ path: tree })), Code.NotFound);
    });

    test("ListDir walks to the requested depth in pre-order, paths under the requested path", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary });
      const root = join(t.dir, "list");
      for (const d of ["s1/s1a/deep", "s1/s1b", "s2"]) await mkdir(join(root, d), { recursive: true });
      await writeFile(join(root, "f.txt"), "1");
      await writeFile(join(root, "s1", "s1a", "deep", "g.txt"), "2");
      const paths = async (depth: number, at = root) =>
        (await fs.listDir({ path: at, depth })).entries.map((e) => e.path.slice(at.length + 1));

      assert.deepEqual(await paths(0), ["f.txt", "s1", "s2"], "depth 0 means 1");
      assert.deepEqual(await paths(1), ["f.txt", "s1", "s2"]);
      assert.deepEqual(await paths(2), ["f.txt", "s1", "s1/s1a", "s1/s1b", "s2"]);
      assert.deepEqual(await paths(3), ["f.txt", "s1", "s1/s1a", "s1/s1a/deep", "s1/s1b", "s2"]);
      assert.equal((await paths(10)).at(-2), "s1/s1b");

      // Listed through a symlinked directory, paths keep the link.
      const alias = join(t.dir, "alias");
      await symlink(root, alias);
      assert.deepEqual(await paths(2, alias), ["f.txt", "s1", "s1/s1a", "s1/s1b", "s2"]);

      assert.equal(await codeOf(fs.listDir({ path: join(root, "f.txt") })), Code.InvalidArgument);
      assert.equal(await codeOf(fs.listDir({ path: join(root, "nope") })), Code.NotFound);
    });

    test("symlinks: target's type and mode, canonical target, not followed by ListDir", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary });
      const dir = join(t.dir, "links");
      await mkdir(join(dir, "real", "inside"), { recursive: true });
      await writeFile(join(dir, "real", "script.sh"), "#!/bin/sh\n", { mode: 0o755 });
      await symlink(join(dir, "real", "script.sh"), join(dir, "to-file"));
      await symlink("real", join(dir, "to-dir"));
      await symlink(join(dir, "nowhere"), join(dir, "dangling"));

      const toFile = (await fs.stat({ path: join(dir, "to-file") })).entry;
      assert.equal(toFile?.type, FileType.FILE);
      assert.equal(toFile?.mode, 0o755);
      assert.equal(toFile?.permissions, "Lrwxrwxrwx");
      assert.equal(toFile?.symlinkTarget, join(dir, "real", "script.sh"));

      const entries = (await fs.listDir({ path: dir, depth: 3 })).entries;
      const byName = new Map(entries.map((e) => [e.path.slice(dir.length + 1), e]));
      assert.equal(byName.get("to-dir")?.type, FileType.DIRECTORY);
      assert.equal(byName.get("to-dir")?.symlinkTarget, join(dir, "real"));
      assert.equal(byName.get("dangling")?.type, FileType.SYMLINK);
      assert.equal(byName.get("dangling")?.symlinkTarget, join(dir, "nowhere"));
      assert.ok(byName.has("real/inside"));
      assert.ok(![...byName.keys()].some((p) => p.startsWith("to-dir/")), "links are not followed");
    });

    test("owner and group names, numeric ids without a name, and xattr metadata", async () => {
      await using t = await useEnvd();
      const fs = fsClient(t.url, { binary });
      const mine = join(t.dir, "mine.txt");
      const orphan = join(t.dir, "orphan.txt");
      await writeFile(mine, "m");
      await writeFile(orphan, "o");
      await chown(mine, TEST_USER_UID, TEST_USER_UID);
      await chown(orphan, 54321, 54322);
      await writeMetadata(mine, { project: "wrenn", stage: "test" });

      const entry = (await fs.stat({ path: mine })).entry;
      assert.equal(entry?.owner, "user");
      assert.equal(entry?.group, "user");
      assert.deepEqual(entry?.metadata, { project: "wrenn", stage: "test" });
      const other = (await fs.stat({ path: orphan })).entry;
      assert.equal(other?.owner, "54321");
      assert.equal(other?.group, "54322");
      assert.deepEqual(other?.metadata, {});

      const listed = (await fs.listDir({ path: t.dir })).entries.find((e) => e.name === "mine.txt");
      assert.deepEqual(listed?.metadata, { project: "wrenn", stage: "test" });
    });
  });
}
