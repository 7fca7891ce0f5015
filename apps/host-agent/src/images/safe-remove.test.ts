import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ExecFileRunner } from "../exec/command-runner.js";
import { mountsBelow, parseMountPoints, removeTreeSafely } from "./safe-remove.js";

describe("mount parsing", () => {
  it("reads field 5 of mountinfo and decodes octal escapes", () => {
    const text = [
      "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
      "90 22 0:5 / /var/lib/wrenn/a\\040b/rootfs/proc rw - proc proc rw",
      "",
    ].join("\n");
    assert.deepEqual(parseMountPoints(text), ["/", "/var/lib/wrenn/a b/rootfs/proc"]);
  });
  it("lists mounts at or below a dir, deepest first, not siblings with a common prefix", () => {
    const points = ["/", "/x/r", "/x/r/proc", "/x/r/proc/sys", "/x/rr"];
    assert.deepEqual(mountsBelow(points, "/x/r"), ["/x/r/proc/sys", "/x/r/proc", "/x/r"]);
  });
});

describe("removeTreeSafely (root: real tmpfs mount)", {
  skip: process.getuid?.() !== 0 && "needs root to mount",
}, () => {
  it("unmounts what is mounted below before deleting, and leaves nothing mounted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wrenn-saferm-"));
    const runner = new ExecFileRunner();
    try {
      await mkdir(join(dir, "rootfs", "proc"), { recursive: true });
      await runner.run(["mount", "-t", "tmpfs", "-o", "size=1m", "wrenn-test-tmpfs", join(dir, "rootfs", "proc")]);
      assert.ok(readFileSync("/proc/self/mountinfo", "utf8").includes(dir));
      await removeTreeSafely(dir, runner);
      assert.equal(existsSync(dir), false);
      assert.equal(readFileSync("/proc/self/mountinfo", "utf8").includes(dir), false);
    } finally {
      await runner.run(["umount", join(dir, "rootfs", "proc")]);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
