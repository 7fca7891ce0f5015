import { parseCli, USAGE, UsageError } from "./cli.js";
import { createJsonLogger } from "./log/json-logger.js";
import { startEnvd } from "./server.js";
import { ENVD_VERSION } from "./version.js";

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`envd: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.version) {
    process.stdout.write(`${ENVD_VERSION}\n`);
    return 0;
  }
  const log = createJsonLogger({ level: cli.logLevel, base: { svc: "envd" } });
  const envd = await startEnvd({
    port: cli.port,
    host: cli.host,
    version: ENVD_VERSION,
    runDir: cli.runDir,
    defaultUser: cli.defaultUser,
    etcDir: "/etc",
    forwardAddress: cli.forwardAddress,
    log,
  });
  if (cli.cmd) {
    await envd.env.processes.startDetached({ cmd: "/bin/sh", args: ["-c", cli.cmd], tag: "init-cmd", env: envd.env });
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log.info({}, "shutting down");
  await envd[Symbol.asyncDispose]();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`envd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
