import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { collect, processClient } from "../process/process-test-client.js";
import { ENVD_BUNDLE, spawnEnvd } from "./spawn-envd.js";

const run = promisify(execFile);
const dist = dirname(ENVD_BUNDLE);
const CACHE = join(dist, "envd.code-cache");
const skip = existsSync(CACHE) ? false : `${CACHE} is missing: run npm run build -w @wrenn/envd`;
const repoNodeModules = fileURLToPath(new URL("../../../../node_modules", import.meta.url));

/**
 * A copy of the built envd (entry points and bundle) in a scratch directory,
 * with `cache` as its code cache (undefined: none), resolving node-pty and
 * fs-xattr through a node_modules link as an image does beside envd.mjs.
 * `entry` is envd.cjs, what guest images start.
 */
async function envdCopy(cache: Buffer | undefined): Promise<{ entry: string } & AsyncDisposable> {
  const dir = await mkdtemp(join(tmpdir(), "envd-cache-"));
  for (const name of ["envd.mjs", "envd.cjs", "envd.bundle.cjs"]) await copyFile(join(dist, name), join(dir, name));
  if (cache) await writeFile(join(dir, "envd.code-cache"), cache);
  await symlink(repoNodeModules, join(dir, "node_modules"));
  return { entry: join(dir, "envd.cjs"), [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

/** What the loader says about its cache (`WRENN_ENVD_CODE_CACHE_CHECK`). */
async function cacheVerdict(entry: string, nodeArgs: readonly string[] = []): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [...nodeArgs, entry, "--version"], {
    env: { ...process.env, NODE_OPTIONS: "", WRENN_ENVD_CODE_CACHE_CHECK: "1" },
  });
  assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
  return stderr.trim();
}

/** Starts the copy and runs a command over pipes and one on a PTY (the first-use code paths). */
async function assertServes(entry: string, nodeArgs: readonly string[] = []): Promise<void> {
  await using envd = await spawnEnvd(["--log-level", "warn"], entry, nodeArgs);
  const client = processClient(envd.url);
  const piped = await collect(client.start({ process: { cmd: "/bin/sh", args: ["-c", "echo piped"] } }));
  assert.equal(piped.stdout, "piped\n");
  assert.equal(piped.end?.exitCode, 0);
  const pty = await collect(
    client.start({
      process: { cmd: "/bin/sh", args: ["-c", "tty >/dev/null && echo on-a-tty"] },
      pty: { size: { cols: 80, rows: 24 } },
    }),
  );
  assert.match(pty.pty, /on-a-tty/);
}

// A capsule whose cache does not fit (another Node binary, other V8 flags, a
// damaged file) or has none must start all the same, only compiling itself.
describe("envd's code cache falls back silently", { skip }, () => {
  test("without a cache file envd starts and serves", async () => {
    await using copy = await envdCopy(undefined);
    assert.equal(await cacheVerdict(copy.entry), "code cache absent");
    await assertServes(copy.entry);
  });

  test("a damaged cache is rejected and envd starts and serves", async () => {
    await using copy = await envdCopy(Buffer.from("not a V8 code cache, just bytes of the wrong shape"));
    assert.equal(await cacheVerdict(copy.entry), "code cache rejected");
    await assertServes(copy.entry);
  });

  test("the real cache under other V8 flags (as from another Node build) is rejected, envd serves", async () => {
    await using copy = await envdCopy(await readFile(CACHE));
    assert.equal(await cacheVerdict(copy.entry), "code cache accepted");
    const otherFlags = ["--max-semi-space-size=2"];
    assert.equal(await cacheVerdict(copy.entry, otherFlags), "code cache rejected");
    await assertServes(copy.entry, otherFlags);
  });
});
