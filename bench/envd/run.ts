// envd benchmarks: ./wrenn bench envd [--quick]
// Prints one table; every row shows the floor measured in the same run.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnEnvd } from "../../apps/envd/src/testing/spawn-envd.js";
import { renderTable } from "../lib/table.js";
import { benchExec } from "./exec.js";
import { benchStartup } from "./startup.js";
import { benchTransfer } from "./transfer.js";

const { values } = parseArgs({ options: { quick: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  process.stdout.write(
    "Usage: ./wrenn bench envd [--quick]\n  --quick  fewer runs and 128 MiB transfers instead of 1 GiB\n",
  );
  process.exit(0);
}
const quick = values.quick === true;

// Transfers land in tmpfs when there is one, so the upload measures envd and
// not this machine's disk write-back.
const scratchRoot = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
const dir = await mkdtemp(join(scratchRoot, "wrenn-bench-envd-"));
try {
  const startup = await benchStartup(quick ? 5 : 15);
  let exec: Awaited<ReturnType<typeof benchExec>>;
  {
    await using envd = await spawnEnvd(["--log-level", "warn"]);
    exec = await benchExec(envd.url, quick ? 50 : 300, envd.pid);
  }
  // A fresh envd for transfers: its RSS is then what the transfers cost, not
  // what the 512 MiB output stream above left for the garbage collector.
  await using envd = await spawnEnvd(["--log-level", "warn"]);
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
      `envd benchmarks (${quick ? "quick" : "full"}; Node ${process.version}; transfers in ${scratchRoot}, best of ${quick ? 1 : 3})`,
      [...startup, ...exec, ...transfer],
    ),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
