import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { withPeakRss } from "../testing/peak-rss.js";
import { spawnEnvd } from "../testing/spawn-envd.js";
import { sdkSandbox } from "./sdk-sandbox.js";

const GIB = 1024 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const RSS_LIMIT = 150 * 1024 * 1024;

/** 1 GiB of incompressible data as a web stream, hashed as it is produced. */
function generated(total: number, hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  const block = randomBytes(CHUNK);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      // Vary every chunk so nothing along the way can deduplicate it.
      const chunk = Buffer.from(block);
      chunk.writeUInt32LE(sent / CHUNK, 0);
      hash.update(chunk);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

test("e2b SDK streams a 1 GiB upload and download while envd stays under 150 MB RSS", {
  timeout: 180_000,
}, async (t) => {
  await using envd = await spawnEnvd(["--log-level", "warn"]);
  const dir = await mkdtemp(join(tmpdir(), "envd-1g-"));
  try {
    const sbx = await sdkSandbox(envd);
    const path = join(dir, "big.bin");

    const upHash = createHash("sha256");
    const upStart = performance.now();
    const up = await withPeakRss(envd.rss, () => sbx.files.write(path, generated(GIB, upHash)));
    const upSeconds = (performance.now() - upStart) / 1000;
    assert.equal((await stat(path)).size, GIB);

    const downHash = createHash("sha256");
    const downStart = performance.now();
    const down = await withPeakRss(envd.rss, async () => {
      const stream = await sbx.files.read(path, { format: "stream" });
      let bytes = 0;
      for await (const chunk of stream) {
        downHash.update(chunk);
        bytes += chunk.length;
      }
      return bytes;
    });
    const downSeconds = (performance.now() - downStart) / 1000;

    assert.equal(down.value, GIB);
    assert.equal(downHash.digest("hex"), upHash.digest("hex"), "downloaded bytes equal uploaded bytes");
    const mb = (n: number) => Math.round(n / 1048576);
    t.diagnostic(
      `1 GiB upload ${mb(GIB / upSeconds)} MiB/s (envd peak RSS ${mb(up.peak)} MiB), ` +
        `download ${mb(GIB / downSeconds)} MiB/s (envd peak RSS ${mb(down.peak)} MiB)`,
    );
    assert.ok(up.peak < RSS_LIMIT, `envd RSS during upload ${mb(up.peak)} MiB`);
    assert.ok(down.peak < RSS_LIMIT, `envd RSS during download ${mb(down.peak)} MiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
