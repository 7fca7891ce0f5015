/**
 * Builds a guest image and prints its path:
 *   node --import tsx apps/host-agent/src/images/build-image.cli.ts minimal [--wrenn-dir DIR] [--ext4]
 * Progress goes to stderr as one live line (a line per phase and 10 % when stderr is not a terminal).
 */
import { ExecFileRunner } from "../exec/command-runner.js";
import { buildImage, defaultImageSources } from "./image-builder.js";
import { type BuildProgress, formatProgress } from "./progress.js";
import { TEMPLATES } from "./template.js";

/** Parsed command line plus the environment it may read. */
export interface BuildImageCliConfig {
  readonly template: string;
  readonly wrennDir: string;
  readonly ext4: boolean;
  readonly help: boolean;
}

/** A bad command line: printed with the usage, without a stack trace. */
class UsageError extends Error {}

const USAGE = `Usage: build-image.cli.ts [template] [--wrenn-dir DIR] [--ext4]

Builds a guest image from Debian packages (cached by content hash) and prints
the root filesystem path (and the ext4 image path with --ext4).

  template          ${Object.keys(TEMPLATES).join(", ")} (default minimal)
  --wrenn-dir DIR   cache root (default $WRENN_DIR or /var/lib/wrenn)
  --ext4            also build rootfs.ext4 for the VM runtimes
  -h, --help        show this help
`;

/** The only place the builder reads the environment: WRENN_DIR, overridden by --wrenn-dir. */
export function loadCliConfig(args: readonly string[], env: NodeJS.ProcessEnv): BuildImageCliConfig {
  let template = "minimal";
  let wrennDir = env["WRENN_DIR"] || "/var/lib/wrenn";
  let ext4 = false;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--wrenn-dir") {
      const v = args[++i];
      if (!v) throw new UsageError("--wrenn-dir needs a value");
      wrennDir = v;
    } else if (a === "--ext4") ext4 = true;
    else if (a === "--help" || a === "-h") help = true;
    else if (a && !a.startsWith("-")) template = a;
    else throw new UsageError(`unknown option ${a}`);
  }
  return { template, wrennDir, ext4, help };
}

async function main(): Promise<void> {
  const cfg = loadCliConfig(process.argv.slice(2), process.env);
  if (cfg.help) return void process.stdout.write(USAGE);
  const template = TEMPLATES[cfg.template];
  if (!template) throw new UsageError(`unknown template ${cfg.template} (known: ${Object.keys(TEMPLATES).join(", ")})`);
  const tty = process.stderr.isTTY === true;
  let last = "";
  const onProgress = (p: BuildProgress) => {
    if (tty) return void process.stderr.write(`\r\x1b[2K${formatProgress(p, process.stderr.columns || 100)}`);
    // A log file gets a line per phase and per 10 %, not one per probe sample.
    const mark = `${p.phase}:${Math.floor(p.percent / 10)}`;
    if (mark !== last) process.stderr.write(`${formatProgress(p)}\n`);
    last = mark;
  };
  // Ctrl-C aborts the running command, so the applier still unmounts /proc and the temp tree is removed.
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort(new Error("interrupted")));
  process.once("SIGTERM", () => abort.abort(new Error("terminated")));
  const image = await buildImage({
    signal: abort.signal,
    wrennDir: cfg.wrennDir,
    template,
    sources: defaultImageSources(),
    runner: new ExecFileRunner(),
    onProgress,
    ext4: cfg.ext4,
  });
  if (tty) process.stderr.write("\n");
  process.stderr.write(
    `${image.cached ? "cached" : "built"} ${image.template} ${image.hash} in ${(image.durationMs / 1000).toFixed(2)} s\n`,
  );
  process.stdout.write(`${image.rootfs}\n`);
  if (image.ext4) process.stdout.write(`${image.ext4}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`build-image: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`\nbuild-image: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  if (err instanceof Error && err.cause) process.stderr.write(`cause: ${String(err.cause)}\n`);
  process.exitCode = 1;
});
