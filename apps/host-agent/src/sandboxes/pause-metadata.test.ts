import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PlatformError } from "@wrenn/kit";
import { PAUSE_METADATA_FILE, readPauseMetadata, writePauseMetadata } from "./pause-metadata.js";

test("pause metadata round-trips and a broken file is an internal PlatformError", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wrenn-pmeta-"));
  try {
    const meta = { sandboxId: "sb-1", templateId: "tpl-x" };
    await writePauseMetadata(dir, meta);
    assert.deepEqual(await readPauseMetadata(dir), meta);
    await writeFile(join(dir, PAUSE_METADATA_FILE), '{"sandboxId":"sb-1"}');
    await assert.rejects(readPauseMetadata(dir), (e: unknown) => e instanceof PlatformError && e.code === "internal");
    await rm(join(dir, PAUSE_METADATA_FILE));
    await assert.rejects(readPauseMetadata(dir), (e: unknown) => e instanceof PlatformError && e.code === "internal");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
