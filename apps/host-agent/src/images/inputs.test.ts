import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { collectImageFiles, type ImageSources, imageHash, isShippedAddonFile } from "./inputs.js";
import { MINIMAL_TEMPLATE } from "./template.js";

describe("isShippedAddonFile", () => {
  it("keeps manifest, licence, runtime JS and the compiled addon only", () => {
    const keep = [
      "package.json",
      "LICENSE",
      "index.js",
      "lib/index.js",
      "lib/shared/conout.js",
      "build/Release/pty.node",
    ];
    const drop = [
      "lib/index.js.map",
      "lib/terminal.test.js",
      "src/unix/pty.cc",
      "build/Release/obj.target/xattr.node",
      "prebuilds/darwin-x64/pty.node",
      "scripts/post-install.js",
      "binding.gyp",
    ];
    for (const f of keep) assert.equal(isShippedAddonFile(f), true, f);
    for (const f of drop) assert.equal(isShippedAddonFile(f), false, f);
  });
});

describe("collectImageFiles + imageHash", () => {
  let dir = "";
  let sources: ImageSources;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-inputs-"));
    await writeFile(join(dir, "node"), "node-binary", { mode: 0o755 });
    await writeFile(join(dir, "envd.mjs"), "loader");
    await writeFile(join(dir, "envd.cjs"), "cjs loader");
    await writeFile(join(dir, "envd.bundle.cjs"), "bundle");
    await writeFile(join(dir, "envd.code-cache"), "cache");
    for (const addon of ["fs-xattr", "node-pty"]) {
      await mkdir(join(dir, "nm", addon, "build", "Release"), { recursive: true });
      await writeFile(join(dir, "nm", addon, "package.json"), "{}");
      await writeFile(join(dir, "nm", addon, "build", "Release", "a.node"), addon);
      await writeFile(join(dir, "nm", addon, "binding.gyp"), "{}");
    }
    sources = { nodeBinary: join(dir, "node"), envdBundle: join(dir, "envd.mjs"), nodeModulesDir: join(dir, "nm") };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("maps inputs to guest paths with normalised modes", async () => {
    const files = await collectImageFiles(sources);
    assert.deepEqual(
      files.map((f) => [f.dest, f.mode.toString(8)]),
      [
        ["/usr/local/bin/node", "755"],
        ["/usr/local/lib/wrenn/envd/envd.bundle.cjs", "644"],
        ["/usr/local/lib/wrenn/envd/envd.cjs", "644"],
        ["/usr/local/lib/wrenn/envd/envd.code-cache", "644"],
        ["/usr/local/lib/wrenn/envd/envd.mjs", "644"],
        ["/usr/local/lib/wrenn/envd/node_modules/fs-xattr/build/Release/a.node", "644"],
        ["/usr/local/lib/wrenn/envd/node_modules/fs-xattr/package.json", "644"],
        ["/usr/local/lib/wrenn/envd/node_modules/node-pty/build/Release/a.node", "644"],
        ["/usr/local/lib/wrenn/envd/node_modules/node-pty/package.json", "644"],
      ],
    );
  });

  it("changes with any file content or the package list, not with host paths", async () => {
    const files = await collectImageFiles(sources);
    const base = imageHash(MINIMAL_TEMPLATE, files);
    assert.equal(
      imageHash(
        MINIMAL_TEMPLATE,
        files.map((f) => ({ ...f, source: `/elsewhere${f.source}` })),
      ),
      base,
    );
    assert.notEqual(imageHash({ ...MINIMAL_TEMPLATE, packages: [...MINIMAL_TEMPLATE.packages, "git"] }, files), base);
    await writeFile(join(dir, "nm", "node-pty", "build", "Release", "a.node"), "rebuilt");
    assert.notEqual(imageHash(MINIMAL_TEMPLATE, await collectImageFiles(sources)), base);
  });
});
