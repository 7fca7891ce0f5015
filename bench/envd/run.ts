// envd benchmarks: ./wrenn bench envd [--quick] [--bundle <envd.mjs>] [--idle]
// Prints one table; every row shows the floor measured in the same run.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ENVD_LOADER, spawnEnvd } from "../../apps/envd/src/testing/spawn-envd.js";
import { renderTable } from "../lib/table.js";
import { benchExec } from "./exec.js";
import { benchFirstUse, type EnvdVariant } from "./first-use.js";
import { benchIdle } from "./idle.js";
import { benchStartup } from "./startup.js";
import { benchTransfer } from "./transfer.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    bundle: { type: "string" },
    idle: { type: "boolean" },
    "first-use": { type: "boolean" },
    "after-init-ms": { type: "string" },
    variant: { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(
    [
      "Usage: ./wrenn bench envd [--quick] [--bundle <file>] [--idle | --first-use [--variant …]]",
      "  --quick          fewer runs and 128 MiB transfers instead of 1 GiB",
      "  --idle           only the idle table (root): CPU of idle envds, each alone in a",
      "                   network namespace as in a capsule, and listen → reachable latency",
      "  --bundle <file>  benchmark another envd build (default apps/envd/dist/envd.cjs),",
      "                   e.g. an older one, to compare two builds under the same conditions",
      "  --first-use      only the first-use table: start → /health, first /init, first and",
      "                   later Starts, first filesystem call, idle RSS/PSS/USS",
      "  --variant 'label=<file> [node flags…]'",
      "                   with --first-use, repeatable: compare builds and/or node flags,",
      "                   interleaved run by run",
      "  --after-init-ms <n>  with --first-use: pause between /init and the first Start",
      "",
    ].join("\n"),
  );
  process.exit(0);
}
const quick = values.quick === true;
// By default envd.cjs, which guest images start (envd.mjs adds Node's ES module loader).
const bundle = values.bundle === undefined ? ENVD_LOADER : resolve(values.bundle);
const label = `${quick ? "quick" : "full"}; ${bundle === ENVD_LOADER ? "" : `${bundle}; `}Node ${process.version}`;

if (values["first-use"]) {
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const variants: EnvdVariant[] = (values.variant ?? []).map(parseVariant);
  if (variants.length === 0) variants.push({ label: "envd", bundle });
  const rows = await benchFirstUse(quick ? 5 : 15, variants, Number(values["after-init-ms"] ?? 0));
  process.stdout.write(
    renderTable(`envd first use (${label}; load average ${loadAtStart.toFixed(1)} at the start)`, rows),
  );
  process.exit(0);
}

/** `label=<file> [flags…]` → a variant (the file relative to the working directory). */
function parseVariant(spec: string): EnvdVariant {
  const eq = spec.indexOf("=");
  const [file, ...nodeArgs] = spec
    .slice(eq + 1)
    .trim()
    .split(/\s+/);
  if (eq < 1 || !file) throw new Error(`--variant ${spec}: expected label=<file> [node flags…]`);
  return { label: spec.slice(0, eq), bundle: resolve(file), nodeArgs };
}

if (values.idle) {
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const rows = await benchIdle(
    quick
      ? { count: 5, windowMs: 10_000, windows: 2, latencyRuns: 5, outsideGapMs: 8000, bundle }
      : { count: 10, windowMs: 20_000, windows: 3, latencyRuns: 15, outsideGapMs: 12_000, bundle },
  );
  process.stdout.write(
    renderTable(`envd idle cost (${label}; load average ${loadAtStart.toFixed(1)} at the start)`, rows),
  );
  process.exit(0);
}

// Transfers land in tmpfs when there is one, so the upload measures envd and
// not this machine's disk write-back.
const scratchRoot = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
const dir = await mkdtemp(join(scratchRoot, "wrenn-bench-envd-"));
// Printed with the table: on a shared machine it says how much to trust wall-clock rows.
const loadAtStart = loadavg()[0] ?? Number.NaN;
try {
  const startup = await benchStartup(quick ? 5 : 15, bundle);
  let exec: Awaited<ReturnType<typeof benchExec>>;
  {
    await using envd = await spawnEnvd(["--log-level", "warn"], bundle);
    exec = await benchExec(envd.url, quick ? 50 : 300, envd.pid);
  }
  // A fresh envd for transfers: its RSS is then what the transfers cost, not
  // what the 512 MiB output stream above left for the garbage collector.
  await using envd = await spawnEnvd(["--log-level", "warn"], bundle);
  const transfer = await benchTransfer({
    baseUrl: envd.url,
    dir,
    total: quick ? 128 * 1048576 : 1024 * 1048576,
    repeats: quick ? 1 : 3,
    rss: envd.rss,
    pid: envd.pid,
  });
  process.stdout.write(
    renderTable(
      `envd benchmarks (${quick ? "quick" : "full"}; ${bundle === ENVD_LOADER ? "" : `${bundle}; `}Node ${process.version}; transfers in ${scratchRoot}, best of ${quick ? 1 : 3}; load average ${loadAtStart.toFixed(1)} at the start)`,
      [...startup, ...exec, ...transfer],
    ),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
