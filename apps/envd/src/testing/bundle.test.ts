import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { codeName, codeOf, fsClient } from "../filesystem/fs-test-client.js";
import { collect, processClient } from "../process/process-test-client.js";
import { ENVD_VERSION } from "../version.js";
import { ENVD_BUNDLE, spawnEnvd } from "./spawn-envd.js";

const run = promisify(execFile);
const skip = existsSync(ENVD_BUNDLE) ? false : `${ENVD_BUNDLE} is missing: run npm run build -w @wrenn/envd`;

// The built file is what guest images run: a vm.Script with a code cache
// and lazily initialised modules, whose externals (node-pty, fs-xattr)
// resolve next to it. These tests exercise exactly those seams.
describe("the envd bundle", { skip }, () => {
  test("V8 accepts the code cache built with it", async () => {
    const { stdout, stderr } = await run(process.execPath, [ENVD_BUNDLE, "--version"], {
      env: { ...process.env, NODE_OPTIONS: "", WRENN_ENVD_CODE_CACHE_CHECK: "1" },
    });
    assert.equal(stdout, `${ENVD_VERSION}\n`);
    assert.equal(stderr, "code cache accepted\n");
  });

  test("lazily loaded parts work: a PTY (node-pty), file metadata (fs-xattr), /metrics", async (t) => {
    await using envd = await spawnEnvd(["--log-level", "warn"]);
    const dir = await mkdtemp(join(tmpdir(), "envd-bundle-"));
    t.after(() => rm(dir, { recursive: true, force: true }));

    const pty = await collect(
      processClient(envd.url).start({
        process: { cmd: "/bin/sh", args: ["-c", "tty >/dev/null && echo on-a-tty"] },
        pty: { size: { cols: 80, rows: 24 } },
      }),
    );
    assert.match(pty.pty, /on-a-tty/);
    assert.equal(pty.end?.exitCode, 0);

    const path = join(dir, "with-metadata.txt");
    const upload = await fetch(`${envd.url}/files?path=${encodeURIComponent(path)}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "x-metadata-origin": "bundle-test" },
      body: "hello",
    });
    assert.equal(upload.status, 200, await upload.clone().text());
    const { entry } = await fsClient(envd.url).stat({ path });
    // tmpfs without user xattrs cannot store metadata; where it can, it must come back.
    if (entry?.metadata && Object.keys(entry.metadata).length > 0) {
      assert.deepEqual(entry.metadata, { origin: "bundle-test" });
    }
    assert.equal(entry?.size, 5n);

    const metrics = await fetch(`${envd.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.ok(((await metrics.json()) as { cpu_count: number }).cpu_count > 0);
  });

  // The bundle's Connect runs on envd's own Headers (src/rpc/light-headers.ts),
  // not Node's: errors (Connect error bodies and trailers), Basic auth and
  // both codecs must come out as from the sources.
  test("Connect errors, users and both codecs work on the bundle's own Headers", async () => {
    await using envd = await spawnEnvd(["--log-level", "silent"]);
    for (const binary of [false, true]) {
      const missing = processClient(envd.url, { binary }).start({ process: { cmd: "/no/such/command" } });
      assert.equal(codeName(await codeOf(collect(missing))), "NotFound");
      assert.equal(codeName(await codeOf(fsClient(envd.url).stat({ path: "/no/such/path" }))), "NotFound");
      const asRoot = await collect(
        processClient(envd.url, { binary, user: "root" }).start({ process: { cmd: "/bin/sh", args: ["-c", "id -u"] } }),
      );
      assert.equal(asRoot.stdout, "0\n");
    }
    const unknownUser = processClient(envd.url, { user: "no-such-user" }).start({ process: { cmd: "true" } });
    assert.equal(codeName(await codeOf(collect(unknownUser))), "Unauthenticated");
  });
});
