#!/usr/bin/env node
// Bundles envd into one ESM file (dist/envd.mjs) so it starts fast: one file
// to read and compile instead of hundreds of modules. Native addons (node-pty,
// fs-xattr) stay external and are shipped next to the bundle in guest images.
import { build } from "esbuild";

await build({
  entryPoints: [new URL("./src/main.ts", import.meta.url).pathname],
  outfile: new URL("./dist/envd.mjs", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  // Smaller source parses faster at every capsule start; identifiers stay
  // readable so stack traces in logs still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "none",
  external: ["node-pty", "fs-xattr"],
  // Some bundled CommonJS dependencies call require(); give ESM output one.
  banner: {
    js: "import { createRequire as __wrennCreateRequire } from 'node:module'; const require = __wrennCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
