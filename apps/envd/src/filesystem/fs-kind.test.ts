import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { fsKindOf, fsKindOfMagic } from "./fs-kind.js";

test("statfs magic numbers: network, pseudo and local file systems", async () => {
  assert.equal(fsKindOfMagic(0x6969), "network"); // nfs
  assert.equal(fsKindOfMagic(0xff534d42), "network"); // cifs
  assert.equal(fsKindOfMagic(0xff534d42 | 0), "network", "signed f_type");
  assert.equal(fsKindOfMagic(0x65735546), "network"); // fuse (sshfs)
  assert.equal(fsKindOfMagic(0x9fa0), "pseudo"); // proc
  assert.equal(fsKindOfMagic(0xef53), "local"); // ext4
  assert.equal(fsKindOfMagic(0x01021994), "local"); // tmpfs
  assert.equal(await fsKindOf("/proc"), "pseudo");
  assert.notEqual(await fsKindOf(tmpdir()), "pseudo");
});
