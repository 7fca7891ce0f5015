import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ExecFileRunner } from "../exec/command-runner.js";
import { MANIFEST_FILE } from "./image-cache.js";
import { IMAGE_KEEP_MS, pruneStaleImages, removeCrashedBuilds, touchImage } from "./image-prune.js";

const runner = new ExecFileRunner();
const root = process.getuid?.() === 0;

async function image(parent: string, name: string, ageMs: number): Promise<string> {
  const dir = join(parent, name);
  await mkdir(join(dir, "rootfs"), { recursive: true });
  await writeFile(join(dir, "rootfs", "file"), "x");
  await writeFile(join(dir, MANIFEST_FILE), "{}");
  const at = new Date(Date.now() - ageMs);
  await utimes(join(dir, MANIFEST_FILE), at, at);
  return dir;
}

describe("pruneStaleImages", () => {
  it("removes siblings unused for a day, keeps the current, recent, locked, open and mounted ones", async (t) => {
    const parent = await mkdtemp(join(tmpdir(), "wrenn-prune-"));
    const old = IMAGE_KEEP_MS + 60_000;
    const current = await image(parent, "current", old);
    const stale = await image(parent, "stale", old);
    const recent = await image(parent, "recent", 60_000);
    await image(parent, "locked", old);
    await writeFile(join(parent, "locked.lock"), `${process.pid} x`);
    const held = await image(parent, "held", old);
    const handle = await open(join(held, "rootfs", "file"), "r");
    const touched = await image(parent, "touched", old);
    await touchImage(touched);
    await mkdir(join(parent, ".del-crashed-1", "rootfs"), { recursive: true });
    const mounted = await image(parent, "mounted", old);
    if (root) await runner.run(["mount", "-t", "tmpfs", "-o", "size=1m", "prune-test", join(mounted, "rootfs")]);
    try {
      const removed = await pruneStaleImages(current, runner);
      assert.deepEqual(removed, [stale]);
      const left = (await readdir(parent)).sort();
      const expected = ["current", "held", "locked", "locked.lock", "mounted", "recent", "touched"];
      assert.deepEqual(left, expected);
      assert.ok(existsSync(join(recent, MANIFEST_FILE)));
      t.diagnostic(root ? "mount check exercised" : "not root: the mounted image is only old, not mounted");
    } finally {
      await handle.close();
      if (root) await runner.run(["umount", join(mounted, "rootfs")]);
      await rm(parent, { recursive: true, force: true });
    }
  });

  it("without a mount or open file, an old image goes", async () => {
    const parent = await mkdtemp(join(tmpdir(), "wrenn-prune-"));
    try {
      const current = await image(parent, "a", 0);
      const unused = await image(parent, "b", IMAGE_KEEP_MS + 1000);
      assert.deepEqual(await pruneStaleImages(current, runner), [unused]);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe("removeCrashedBuilds", () => {
  it("removes temp trees (mounts first) and locks of dead builders, keeps those of live ones", async (t) => {
    const parent = await mkdtemp(join(tmpdir(), "wrenn-crashed-"));
    // A pid that existed and is gone: a process that has exited and been reaped.
    const dead = spawnSync("true").pid;
    const deadTree = join(parent, `.tmp-aaaa-${dead}`);
    const liveTree = join(parent, `.tmp-bbbb-${process.pid}`);
    await mkdir(join(deadTree, "rootfs", "proc"), { recursive: true });
    await mkdir(join(liveTree, "rootfs"), { recursive: true });
    await writeFile(join(parent, "aaaa.lock"), `${dead} token`);
    await writeFile(join(parent, "bbbb.lock"), `${process.pid} token`);
    await writeFile(join(parent, "cccc.lock"), ""); // being written right now
    const current = await image(parent, "current", 0);
    const procMount = join(deadTree, "rootfs", "proc");
    if (root) await runner.run(["mount", "-t", "tmpfs", "-o", "size=1m", "crashed-build-test", procMount]);
    try {
      await removeCrashedBuilds(parent, runner);
      const left = (await readdir(parent)).sort();
      assert.deepEqual(left, [`.tmp-bbbb-${process.pid}`, "bbbb.lock", "cccc.lock", "current"]);
      assert.ok(existsSync(join(current, MANIFEST_FILE)));
      t.diagnostic(root ? "a mounted tree was unmounted and removed" : "not root: the tree had no mount");
    } finally {
      if (root) await runner.run(["umount", procMount]).catch(() => undefined);
      await rm(parent, { recursive: true, force: true });
    }
  });
});
