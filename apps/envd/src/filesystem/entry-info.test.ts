import assert from "node:assert/strict";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { FileType } from "@wrenn/protocol/envd/filesystem";
import { fileTypeOf, permissionString, timestampFromNs } from "./entry-info.js";
import { readMetadata, writeMetadata } from "./metadata.js";

describe("entry-info helpers", () => {
  test("permission strings follow ls, with Go's L for symlinks", () => {
    assert.equal(permissionString(0o100644), "-rw-r--r--");
    assert.equal(permissionString(0o100755), "-rwxr-xr-x");
    assert.equal(permissionString(0o040755), "drwxr-xr-x");
    assert.equal(permissionString(0o040700), "drwx------");
    assert.equal(permissionString(0o120777), "Lrwxrwxrwx");
    assert.equal(permissionString(0o104755), "-rwsr-xr-x");
    assert.equal(permissionString(0o041777), "drwxrwxrwt");
    assert.equal(permissionString(0o102644), "-rw-r-Sr--");
    assert.equal(permissionString(0o010600), "prw-------");
    assert.equal(permissionString(0o140755), "Srwxr-xr-x");
  });

  test("file types: only files, directories and symlinks have one", () => {
    assert.equal(fileTypeOf(0o100644), FileType.FILE);
    assert.equal(fileTypeOf(0o040755), FileType.DIRECTORY);
    assert.equal(fileTypeOf(0o120777), FileType.SYMLINK);
    assert.equal(fileTypeOf(0o010600), FileType.UNSPECIFIED);
  });

  test("timestamps keep nanoseconds, also before 1970", () => {
    const t = timestampFromNs(1_700_000_000_123_456_789n);
    assert.equal(t.seconds, 1_700_000_000n);
    assert.equal(t.nanos, 123_456_789);
    const before = timestampFromNs(-1n);
    assert.equal(before.seconds, -1n);
    assert.equal(before.nanos, 999_999_999);
  });
});

describe("metadata (user.e2b.* xattrs)", () => {
  test("round trip, merge, replace, and invalid keys", async () => {
    const dir = await mkdtemp(join(tmpdir(), "envd-meta-"));
    try {
      const file = join(dir, "f.txt");
      await writeFile(file, "x");
      assert.deepEqual(await readMetadata(file), {});
      await writeMetadata(file, { owner: "alice", "content-kind": "notes ✓" });
      assert.deepEqual(await readMetadata(file), { owner: "alice", "content-kind": "notes ✓" });
      await writeMetadata(file, { owner: "bob" });
      assert.deepEqual(await readMetadata(file), { owner: "bob", "content-kind": "notes ✓" });
      await writeMetadata(file, { only: "this" }, { replace: true });
      assert.deepEqual(await readMetadata(file), { only: "this" });

      // Through a symlink, the target's metadata.
      await symlink(file, join(dir, "link"));
      assert.deepEqual(await readMetadata(join(dir, "link")), { only: "this" });

      await assert.rejects(writeMetadata(file, { "": "x" }), (err: unknown) => {
        return err instanceof ConnectError && err.code === Code.InvalidArgument;
      });
      await assert.rejects(writeMetadata(file, { ["k".repeat(300)]: "x" }), ConnectError);
      assert.deepEqual(await readMetadata(join(dir, "missing")), {}, "best effort for a missing file");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
