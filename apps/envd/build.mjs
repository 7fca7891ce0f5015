#!/usr/bin/env node
// Builds envd for guest images: dist/envd.cjs, a small loader that runs
// dist/envd.bundle.cjs (one CommonJS bundle of envd; the native addons
// node-pty and fs-xattr stay external) through vm.Script with the V8 code
// cache dist/envd.code-cache, made here by starting the new envd once and
// warming it up (build-warmup.mjs: /init, commands, a PTY, filesystem calls,
// files), so a capsule's first calls run already compiled code; and
// dist/envd.mjs, the entry point everything else names, which runs envd.cjs.
// Guest images ship the four files. Why (measured in
// docs/decisions/0002-envd-startup-and-memory.md):
// - CommonJS, because esbuild hoists every `import "node:…"` of an ES module
//   bundle to the top, so node:zlib, node:child_process… would load at start
//   even for code envd imports lazily on first use; in a CommonJS bundle
//   those requires stay inside the lazily initialised modules;
// - vm.Script, because it is the only compiler in Node 20 that accepts a code
//   cache (no module compile cache before Node 22): with it V8 skips parsing
//   and compiling the bundle at every capsule start.
// A cache that does not match (another Node binary, other V8 flags) is
// rejected by V8 and envd compiles normally, only slower.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { warmUp } from "./build-warmup.mjs";

const dist = new URL("./dist/", import.meta.url).pathname;
/** The loader that runs the bundle (what guest images start; envd.mjs runs it too). */
const LOADER_FILE = "envd.cjs";
/** The bundle V8 compiles, beside the loader (guest images ship all four files). */
const BUNDLE_FILE = "envd.bundle.cjs";
/** Its V8 code cache, made by trainCodeCache. */
const CACHE_FILE = "envd.code-cache";
const outfile = join(dist, "envd.mjs");

const bundle = await build({
  entryPoints: [new URL("./src/main.ts", import.meta.url).pathname],
  outfile: join(dist, BUNDLE_FILE),
  write: false,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // Smaller source parses faster; identifiers stay readable so stack traces
  // in logs still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "external",
  legalComments: "none",
  external: ["node-pty", "fs-xattr"],
  // Every global `Headers` becomes envd's own (src/rpc/light-headers.ts): Node's
  // loads all of undici on first touch, which the first RPC paid for.
  inject: [new URL("./src/rpc/light-headers.ts", import.meta.url).pathname],
  // The bundle runs inside a function (see loaderSource) that receives the
  // loader's import.meta.url: node-pty is resolved next to envd.mjs.
  define: { "import.meta.url": "__envdModuleUrl" },
  logLevel: "warning",
});
const bundled = bundle.outputFiles.find((f) => f.path.endsWith(".cjs"))?.text;
const map = bundle.outputFiles.find((f) => f.path.endsWith(".map"))?.text;
if (bundled === undefined || map === undefined) throw new Error("esbuild produced no bundle");
// A vm.Script compiled with a code cache loses its dynamic-import callback
// (import() then throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so import()
// of an external ES module (fs-xattr) goes through the loader's own import().
const code = bundled.replaceAll('import("fs-xattr")', '__envdImport("fs-xattr")');
if (/(?<![\w$.])import\(/.test(code)) throw new Error("the bundle has an import() the loader does not route");
// The source V8 compiles, and the code cache is keyed to: keep it byte-identical
// between the training run and the final file.
const inner = `(function (require, __envdModuleUrl, __envdImport) {"use strict";${code}\n})`;

// The loader reads the bundle as latin1 (one byte per character, no UTF-8
// decoding), which is only the same text if the bundle is ASCII (esbuild's
// default charset escapes everything else).
if (/[^\t\n\r -~]/.test(inner)) throw new Error("the bundle is not ASCII");

await rm(join(dist, CACHE_FILE), { force: true });
await writeFile(join(dist, BUNDLE_FILE), inner);
await writeFile(join(dist, `${BUNDLE_FILE}.map`), map);
await writeFile(join(dist, LOADER_FILE), loaderSource());
await writeFile(outfile, esmEntrySource());
await writeFile(join(dist, CACHE_FILE), await trainCodeCache(join(dist, LOADER_FILE)));

/**
 * envd.cjs: reads the bundle and its code cache from the files beside it
 * and runs the bundle. CommonJS because Node starts a CommonJS entry point
 * without initialising its ES module loader (measured: ~12 ms less CPU and
 * 0.5 MiB less private memory at start than the same loader as an ES
 * module). Separate files rather than string literals: a literal stays in
 * the heap for the life of the process (and the loader's source with it); a
 * file's cache buffer is garbage once V8 has deserialized it.
 */
function loaderSource() {
  return `// envd, generated by apps/envd/build.mjs (see there and docs/decisions/0002-envd-startup-and-memory.md).
"use strict";
const { readFileSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");
const { Script } = require("node:vm");
const bundlePath = join(__dirname, ${JSON.stringify(BUNDLE_FILE)});
let cachedData;
try {
  cachedData = readFileSync(join(__dirname, ${JSON.stringify(CACHE_FILE)}));
} catch {
  // No cache (or unreadable): V8 compiles the bundle itself, only slower.
}
const script = new Script(readFileSync(bundlePath, "latin1"), { filename: bundlePath, cachedData });
if (process.env.WRENN_ENVD_CODE_CACHE_CHECK === "1") {
  process.stderr.write("code cache " + (cachedData === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "accepted") + "\\n");
}
cachedData = undefined;
const trainingOutput = process.env.WRENN_ENVD_CODE_CACHE_OUT;
if (trainingOutput) {
  // Build time only: once the build has warmed envd up (build-warmup.mjs), it
  // asks for the cache, which then holds every function compiled on the way.
  process.once("SIGUSR2", () => {
    writeFileSync(trainingOutput, script.createCachedData());
    process.kill(process.pid, "SIGTERM");
  });
}
// require and import() of the externals (node-pty, fs-xattr) resolve next to this file.
script.runInThisContext()(createRequire(__filename), pathToFileURL(__filename).href, (specifier) => import(specifier));
`;
}

/** envd.mjs, the entry point other code names (tests, ./wrenn envd, the loopback runtime): runs envd.cjs. */
function esmEntrySource() {
  return `// envd, generated by apps/envd/build.mjs. Guest images start envd.cjs directly, which skips
// Node's ES module loader; this entry point is the same envd for everything else.
import { createRequire } from "node:module";
createRequire(import.meta.url)(${JSON.stringify(`./${LOADER_FILE}`)});
`;
}

/**
 * Starts the freshly built envd (no cache yet) on a free loopback port,
 * waits for /health, warms it up (build-warmup.mjs) and has it write its
 * code cache. Fails the build if envd does not come up or a warm-up call
 * fails: such a bundle is broken anyway.
 */
async function trainCodeCache(entry) {
  const scratch = await mkdtemp(join(tmpdir(), "envd-build-"));
  try {
    const port = await freePort();
    const out = join(scratch, "code-cache.bin");
    const env = { ...process.env, WRENN_ENVD_CODE_CACHE_OUT: out };
    // Same V8 flags as production (none): V8 rejects a cache made under other flags.
    delete env.NODE_OPTIONS;
    // Commands run as the building user (envd may only switch users as root).
    const user = userInfo().username;
    const args = [
      entry,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--log-level",
      "silent",
      "--default-user",
      user,
    ];
    const child = spawn(process.execPath, [...args, "--run-dir", join(scratch, "run")], {
      env,
      stdio: ["ignore", "ignore", "inherit"],
    });
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error("envd exited before answering /health");
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error("envd did not answer /health within 30 s");
      }
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.arrayBuffer().then(() => r.ok),
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // WRENN_ENVD_WARMUP=health builds the older /health-only cache, for comparisons.
    if (process.env.WRENN_ENVD_WARMUP !== "health") await warmUp(`http://127.0.0.1:${port}`, scratch);
    child.kill("SIGUSR2");
    const status = await exited;
    if (status !== 0) throw new Error(`envd exited with ${status} while writing its code cache`);
    return await readFile(out);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
