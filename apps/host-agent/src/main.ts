/**
 * The host agent's entry point (`./wrenn agent`): configuration from the environment and the
 * command line, the agent, signals. Exit status: 0 after a graceful stop (SIGTERM, SIGINT,
 * Terminate, host deleted), 2 for bad configuration, 1 when the agent cannot start.
 */
import { ConfigError, loadConfig } from "./config.js";

async function main(): Promise<number> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`wrenn agent: ${err.message}\nRun with --help for the options.\n`);
    return 2;
  }
  if (loaded.kind === "help") {
    process.stdout.write(loaded.text);
    return 0;
  }
  const { config } = loaded;
  // Loaded only now: --help and configuration errors answer without loading the agent.
  const [{ pino }, { startAgent }] = await Promise.all([import("pino"), import("./agent/agent.js")]);
  const log = pino({
    level: config.logLevel,
    base: { svc: "host-agent" },
    redact: ["*.jwt", "*.refresh_token", "*.key_pem", "*.token", "*.envdAccessToken", "*.accessToken"],
  });
  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent(config, log);
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err) }, "host agent failed to start");
    process.stderr.write(`wrenn agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => void agent.shutdown(`signal ${sig}`));
  }
  await agent.stopped;
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; a handle something forgot must not keep a stopped agent
    // alive for ever (unref'd: it does not itself hold the process).
    setTimeout(() => process.exit(code), 10_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`wrenn agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
