#!/usr/bin/env node
// Runs every node:test file of the repo (`*.test.ts` under packages/ and apps/)
// with tsx. node:test takes paths, not globs, so the list is built here.
// Usage: node scripts/run-tests.mjs [path-prefix ...]
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const roots = ["packages", "apps", "bench", "e2e"];
const skipDirs = new Set(["node_modules", "dist", "gen"]);

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!skipDirs.has(e.name)) collect(p, out);
    } else if (e.name.endsWith(".test.ts")) out.push(p);
  }
}

const files = [];
for (const r of roots) collect(r, files);
const prefixes = process.argv.slice(2);
const selected = files.filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p))).sort();
if (selected.length === 0) {
  process.stderr.write("no test files matched\n");
  process.exit(1);
}
const concurrency = process.env.WRENN_TEST_CONCURRENCY ?? "2";
// A test file whose handles keep its process alive would otherwise hang the
// whole run (and CI) silently; fail loudly instead. Per-test timeouts live in
// the tests themselves.
const watchdogMinutes = Number(process.env.WRENN_TEST_WATCHDOG_MINUTES ?? "30");
const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...selected],
  { stdio: "inherit" },
);
const watchdog = setTimeout(() => {
  process.stderr.write(
    `\nrun-tests: still running after ${watchdogMinutes} minutes; a test file is probably leaking handles. Killing the run.\n`,
  );
  child.kill("SIGKILL");
}, watchdogMinutes * 60_000);
child.on("exit", (code, signal) => {
  clearTimeout(watchdog);
  process.exit(code ?? (signal ? 1 : 0));
});
