/**
 * The package's runtime code is universal (the SDK core runs in browsers):
 * it may import only `typebox` and its own modules. Tests and `testing/`
 * helpers may use Node built-ins.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL(".", import.meta.url));

function runtimeFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "testing") files.push(...runtimeFiles(path));
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
      files.push(path);
    }
  }
  return files;
}

describe("runtime code", () => {
  it("imports nothing but typebox and its own modules", () => {
    const files = runtimeFiles(SRC);
    assert.ok(files.length > 20, `found only ${files.length} files`);
    const importRe = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
    const offenders: string[] = [];
    for (const file of files) {
      for (const match of readFileSync(file, "utf8").matchAll(importRe)) {
        const spec = match[1] ?? match[2] ?? "";
        if (!spec.startsWith(".") && spec !== "typebox") offenders.push(`${relative(SRC, file)}: ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});
