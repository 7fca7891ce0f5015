import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TreeUsageMeter, treeBytes } from "./disk-usage.js";

const dir = await mkdtemp(join(tmpdir(), "wrenn-disk-usage-"));
after(() => rm(dir, { recursive: true, force: true }));

const duBytes = (path: string) => Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);

describe("treeBytes", () => {
  it("counts like du -sb: files, directories, symlinks, each hard-linked inode once", async () => {
    const root = join(dir, "tree");
    await mkdir(join(root, "a/b/c"), { recursive: true });
    await writeFile(join(root, "a/one"), Buffer.alloc(12_345));
    await writeFile(join(root, "a/b/c/two"), Buffer.alloc(1 << 20));
    await link(join(root, "a/b/c/two"), join(root, "a/two-again"));
    await symlink("/somewhere/far/away", join(root, "a/b/link"));
    await writeFile(join(root, "empty"), "");
    const du = duBytes(root);
    assert.equal(await treeBytes(root), du);
    assert.ok(du > (1 << 20) + 12_345 && du < 2 << 20, `the hard link counted once: ${du}`);

    await writeFile(join(root, "a/b/grown"), Buffer.alloc(3 << 20));
    assert.equal(await treeBytes(root), duBytes(root), "after a write");
    await rm(join(root, "a/b"), { recursive: true });
    assert.equal(await treeBytes(root), duBytes(root), "after a delete");
  });

  it("a single file is its size; a missing root rejects", async () => {
    const f = join(dir, "single");
    await writeFile(f, "12345");
    assert.equal(await treeBytes(f), 5);
    await assert.rejects(treeBytes(join(dir, "missing")), /ENOENT/);
  });
});

describe("TreeUsageMeter", () => {
  /** A meter over a fake measurement whose result and clock the test sets. */
  function fixture(minIntervalMs = 1000) {
    const state = { now: 0, bytes: 100, release: undefined as (() => void) | undefined, hold: false };
    const meter = new TreeUsageMeter("/unused", {
      minIntervalMs,
      now: () => state.now,
      measure: async () => {
        if (state.hold) await new Promise<void>((r) => (state.release = r));
        return state.bytes;
      },
    });
    return { meter, state };
  }
  const turn = () => new Promise((r) => setImmediate(r));

  it("the first read waits for a walk; later reads answer at once with the latest result", async () => {
    const { meter, state } = fixture();
    assert.equal(await meter.read(1), 100);
    state.bytes = 200;
    state.now = 999;
    assert.equal(await meter.read(2), 100, "interval not passed: no walk");
    assert.equal(meter.walks, 1);
    state.now = 1000;
    assert.equal(await meter.read(3), 100, "a due walk runs in the background");
    await turn();
    assert.equal(meter.walks, 2);
    assert.equal(await meter.read(3), 200, "its result is served afterwards");
  });

  it("no walk while the capsule used no CPU since the last one, however long it sat", async () => {
    const { meter, state } = fixture();
    await meter.read(50);
    state.now = 3_600_000;
    await meter.read(50);
    await meter.read(50);
    assert.equal(meter.walks, 1, "an idle capsule wrote nothing");
    await meter.read(51);
    assert.equal(meter.walks, 2);
  });

  it("one walk at a time; concurrent first reads share it; a failed walk keeps the last value", async () => {
    const { meter, state } = fixture(0);
    state.hold = true;
    const first = [meter.read(1), meter.read(1)];
    await turn();
    state.release?.();
    assert.deepEqual(await Promise.all(first), [100, 100]);
    assert.equal(meter.walks, 1);
    const failing = new TreeUsageMeter(join(dir, "gone"), { minIntervalMs: 0 });
    assert.equal(await failing.read(1), 0, "a layer that never existed reads as 0");
    await writeFile(join(dir, "kept"), "abc");
    const kept = new TreeUsageMeter(join(dir, "kept"), { minIntervalMs: 0 });
    assert.equal(await kept.read(1), 3);
    await rm(join(dir, "kept"));
    await kept.read(2);
    await turn();
    assert.equal(await kept.read(2), 3, "a vanished layer keeps the last size");
    assert.equal(kept.walks, 2);
  });
});
