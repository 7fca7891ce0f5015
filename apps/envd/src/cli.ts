import { parseArgs as parseNodeArgs } from "node:util";
import type { LogLevel } from "./log/json-logger.js";

/** Parsed command line of envd. */
export interface EnvdCli {
  readonly help: boolean;
  readonly version: boolean;
  readonly port: number;
  readonly host: string;
  readonly runDir: string;
  readonly defaultUser: string;
  readonly forwardAddress: string | undefined;
  /** Command started at boot and tagged `init-cmd` (run through /bin/sh -c). */
  readonly cmd: string | undefined;
  readonly logLevel: LogLevel;
}

/** Thrown for a bad command line; main prints it with the usage text. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage: envd [options]

The Wrenn guest agent: runs inside every capsule and speaks the E2B envd
protocol (Connect process/filesystem services and the /files, /init,
/health, /metrics, /envs, /snapshot/prepare HTTP routes).

Options:
  --port <n>             TCP port (default 49983)
  --host <addr>          listen address (default 0.0.0.0)
  --run-dir <dir>        where sandbox identity files go (default /run/wrenn)
  --default-user <name>  user for requests that name none (default root)
  --forward-address <ip> expose localhost-only listeners on this address with
                         socat (default: off)
  --cmd <command>        start this command at boot, tagged init-cmd
  --log-level <level>    debug, info, warn, error, silent (default info)
  --version              print the version and exit
  -h, --help             show this help
`;

/** Parses argv (without node and script). Throws UsageError. */
export function parseCli(argv: readonly string[]): EnvdCli {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseNodeArgs({
      args: [...argv],
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "run-dir": { type: "string" },
        "default-user": { type: "string" },
        "forward-address": { type: "string" },
        cmd: { type: "string" },
        "log-level": { type: "string" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        // Accepted for compatibility with the reference envd; no effect here.
        isnotfc: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const str = (k: string): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const portText = str("port") ?? "49983";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535`);
  const logLevel = str("log-level") ?? "info";
  if (!isLogLevel(logLevel)) throw new UsageError("--log-level must be debug, info, warn, error or silent");
  return {
    help: values["help"] === true,
    version: values["version"] === true,
    port,
    host: str("host") ?? "0.0.0.0",
    runDir: str("run-dir") ?? "/run/wrenn",
    defaultUser: str("default-user") ?? "root",
    forwardAddress: str("forward-address"),
    cmd: str("cmd"),
    logLevel,
  };
}

function isLogLevel(text: string): text is LogLevel {
  return ["debug", "info", "warn", "error", "silent"].includes(text);
}
