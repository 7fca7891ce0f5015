import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sleep } from "@wrenn/kit";
import { ExecFileRunner } from "../exec/command-runner.js";
import { cachedBuild, findCachedImage, MANIFEST_FILE } from "./image-cache.js";

const runner = new ExecFileRunner();

describe("cachedBuild (tiny fake build)", () => {
  let root = "";
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "wrenn-cache-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const key = (hash: string) => ({ imagesRoot: root, template: "tiny", hash, runner });
  const fakeBuild =
    (calls: { n: number }, delayMs = 0) =>
    async (tmp: string) => {
      calls.n += 1;
      await sleep(delayMs);
      await mkdir(join(tmp, "rootfs"));
      await writeFile(join(tmp, "rootfs", "hello"), "hi");
      await writeFile(join(tmp, MANIFEST_FILE), "{}");
    };

  it("builds once, then returns the cached directory without building", async () => {
    const calls = { n: 0 };
    const first = await cachedBuild(key("h1"), fakeBuild(calls));
    assert.deepEqual([first.cached, first.dir, calls.n], [false, join(root, "tiny", "h1"), 1]);
    const t0 = performance.now();
    const second = await cachedBuild(key("h1"), fakeBuild(calls));
    assert.ok(performance.now() - t0 < 100);
    assert.deepEqual([second.cached, second.dir, calls.n], [true, first.dir, 1]);
    assert.deepEqual((await readdir(join(root, "tiny"))).sort(), ["h1"]); // no lock, no temp dir left
  });

  it("a failed build leaves no image, no temp dir and no lock", async () => {
    await assert.rejects(
      cachedBuild(key("h2"), async (tmp) => {
        await writeFile(join(tmp, "half"), "x");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(findCachedImage(key("h2")), undefined);
    assert.deepEqual(
      (await readdir(join(root, "tiny"))).filter((n) => n.includes("h2")),
      [],
    );
  });

  it("a build that forgets the manifest does not count as an image", async () => {
    await assert.rejects(
      cachedBuild(key("h3"), async () => {}),
      /manifest/,
    );
    assert.equal(existsSync(join(root, "tiny", "h3")), false);
  });

  it("concurrent builds of the same hash run the build once", async () => {
    const calls = { n: 0 };
    const results = await Promise.all([1, 2, 3].map(() => cachedBuild(key("h4"), fakeBuild(calls, 300))));
    assert.equal(calls.n, 1);
    assert.deepEqual(results.map((r) => r.cached).sort(), [false, true, true]);
  });

  it("breaks a stale lock and deletes a crashed build's temp dir before building", async () => {
    const dead = 4_194_000; // above any pid this machine hands out in a test run
    await mkdir(join(root, "tiny"), { recursive: true });
    await writeFile(join(root, "tiny", "h5.lock"), `${dead} crashed`);
    await mkdir(join(root, "tiny", `.tmp-h5-${dead}`, "rootfs"), { recursive: true });
    await writeFile(join(root, "tiny", `.tmp-h5-${dead}`, MANIFEST_FILE), "{}"); // looks complete, is not in place
    assert.equal(findCachedImage(key("h5")), undefined);
    const calls = { n: 0 };
    const r = await cachedBuild(key("h5"), fakeBuild(calls));
    assert.deepEqual([r.cached, calls.n], [false, 1]);
    assert.deepEqual(
      (await readdir(join(root, "tiny"))).filter((n) => n.includes("h5")),
      ["h5"],
    );
  });
});
