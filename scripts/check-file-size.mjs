#!/usr/bin/env node
// File-size guard: warns above 400 lines, fails above 800, for hand-written
// TypeScript (generated code under src/gen is exempt).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const files = execFileSync("git", ["ls-files", "*.ts", "*.tsx", "*.mjs"], { encoding: "utf8" })
  .split("\n")
  .filter((f) => f && !/(^|\/)(gen|dist|node_modules)\//.test(f));
let failed = false;
for (const f of files) {
  let lines;
  try {
    lines = readFileSync(f, "utf8").split("\n").length;
  } catch {
    continue;
  }
  if (lines > 800) {
    process.stderr.write(`error: ${f} has ${lines} lines (limit 800): split it by responsibility\n`);
    failed = true;
  } else if (lines > 400) process.stderr.write(`warning: ${f} has ${lines} lines (aim for < 400)\n`);
}
process.exit(failed ? 1 : 0);
