#!/usr/bin/env node
// Layering rules (CONVENTIONS §5), checked on every import of every tracked
// TypeScript file. Dependency-free on purpose: dependency-cruiser's current
// releases need Node 22.
//   - packages/* never import apps/*; an app never imports another app
//   - @wrenn/kit imports nothing but node: built-ins; @wrenn/protocol only @bufbuild/protobuf
//   - node:child_process only where processes are started on purpose
//   - pg / PGlite only in apps/control-plane/src/db/ and *.repo.ts (SQL stays in repositories)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const files = execFileSync("git", ["ls-files", "*.ts"], { encoding: "utf8" })
  .split("\n")
  .filter((f) => f && !f.includes("/gen/"));
const untracked = execFileSync("git", ["ls-files", "--others", "--exclude-standard", "*.ts"], { encoding: "utf8" })
  .split("\n")
  .filter((f) => f && !f.includes("/gen/"));

const CHILD_PROCESS_ALLOWED = [
  /^apps\/envd\/src\/process\//,
  /^apps\/envd\/src\/ports\//,
  /^apps\/host-agent\/src\/exec\//,
  /^scripts\//,
  /^bench\//,
  /\.test\.ts$/,
  /-test-helpers\.ts$/,
  /\/testing\//,
];

const DATABASE_DRIVER_ALLOWED = [/^apps\/control-plane\/src\/db\//, /\.repo\.ts$/];
const databaseDriverRe = /^(pg|pg\/.*|@electric-sql\/pglite(\/.*)?)$/;

const importRe = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function areaOf(path) {
  const m = /^(packages|apps)\/([^/]+)\//.exec(path);
  return m ? { kind: m[1], name: m[2] } : undefined;
}

const problems = [];
for (const file of [...files, ...untracked]) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    continue;
  }
  const from = areaOf(file);
  for (const match of text.matchAll(importRe)) {
    const spec = match[1] ?? match[2];
    if (!spec) continue;
    const target = spec.startsWith(".") ? areaOf(normalize(join(dirname(file), spec))) : undefined;
    const wrennApp = /^@wrenn\/(envd|host-agent|control-plane|dashboard)(\/|$)/.exec(spec);
    if (from?.kind === "packages" && (target?.kind === "apps" || wrennApp))
      problems.push(`${file}: a package imports an app (${spec})`);
    if (from?.kind === "apps") {
      if (target?.kind === "apps" && target.name !== from.name) problems.push(`${file}: imports another app (${spec})`);
      if (wrennApp && wrennApp[1] !== from.name) problems.push(`${file}: imports another app (${spec})`);
    }
    if (file.startsWith("packages/kit/src/") && !spec.startsWith(".") && !spec.startsWith("node:")) {
      problems.push(`${file}: @wrenn/kit must not depend on '${spec}'`);
    }
    if (
      file.startsWith("packages/protocol/src/") &&
      !file.endsWith(".test.ts") &&
      !spec.startsWith(".") &&
      !spec.startsWith("@bufbuild/protobuf")
    ) {
      problems.push(`${file}: @wrenn/protocol must depend only on @bufbuild/protobuf ('${spec}')`);
    }
    if (databaseDriverRe.test(spec) && !DATABASE_DRIVER_ALLOWED.some((re) => re.test(file))) {
      problems.push(`${file}: imports a database driver outside src/db/ and *.repo.ts (${spec})`);
    }
    if (spec === "node:child_process" && !CHILD_PROCESS_ALLOWED.some((re) => re.test(file))) {
      problems.push(`${file}: starts processes outside the places allowed to (node:child_process)`);
    }
  }
}
for (const p of problems) process.stderr.write(`layering: ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);
