import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const committed = join(root, "packages/protocol/src/gen");

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

test("generated code is up to date with proto/ (run `npm run generate`)", { timeout: 60_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), "wrenn-gen-"));
  try {
    const template = JSON.stringify({
      version: "v2",
      inputs: [{ directory: "proto" }],
      plugins: [{ local: "protoc-gen-es", out, opt: ["target=ts", "import_extension=js"] }],
    });
    const bin = join(root, "node_modules/.bin");
    await promisify(execFile)(join(bin, "buf"), ["generate", "--template", template], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}` },
    });
    const fresh = await listFiles(out);
    assert.deepEqual(await listFiles(committed), fresh, "the set of generated files differs");
    for (const file of fresh) {
      const [a, b] = await Promise.all([readFile(join(committed, file), "utf8"), readFile(join(out, file), "utf8")]);
      assert.equal(a, b, `${file} is stale`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
