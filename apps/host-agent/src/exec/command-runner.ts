import { execFile } from "node:child_process";

/** A command as an argv array: never a shell string. */
export type Argv = readonly [command: string, ...args: string[]];

/** What a finished command produced. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for one command. */
export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Written to the command's stdin (e.g. an `nft -f -` ruleset or an `ip -batch -` script). */
  readonly stdin?: string;
  /** Kill the command after this long. @default 60_000 */
  readonly timeoutMs?: number;
  /** Extra environment on top of a minimal PATH. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. */
  readonly cwd?: string;
}

/** Thrown when a command exits non-zero; carries its argv and stderr for the log (never user data). */
export class CommandError extends Error {
  override name = "CommandError";
  constructor(
    readonly argv: Argv,
    readonly result: CommandResult,
  ) {
    super(`${argv.join(" ")} exited with ${result.exitCode}: ${result.stderr.trim().slice(0, 500)}`);
  }
}

/**
 * Runs host commands. The only way host-agent code starts processes for
 * system work (ip, nft, mount, debootstrap...), so tests can record or script
 * them and nothing ever goes through a shell.
 */
export interface CommandRunner {
  /** Runs `argv`; resolves with the result whatever the exit code. */
  run(argv: Argv, opts?: RunOptions): Promise<CommandResult>;
}

/** Runs `argv` and throws CommandError unless it exits 0. */
export async function runChecked(runner: CommandRunner, argv: Argv, opts?: RunOptions): Promise<CommandResult> {
  const result = await runner.run(argv, opts);
  if (result.exitCode !== 0) throw new CommandError(argv, result);
  return result;
}

const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The real CommandRunner: execFile with argv only, a bounded output buffer and a timeout. */
export class ExecFileRunner implements CommandRunner {
  run(argv: Argv, opts: RunOptions = {}): Promise<CommandResult> {
    const [command, ...args] = argv;
    return new Promise((resolve, reject) => {
      const child = execFile(
        command,
        args,
        {
          signal: opts.signal,
          timeout: opts.timeoutMs ?? 60_000,
          maxBuffer: 64 * 1024 * 1024,
          env: { PATH: BASE_PATH, LANG: "C.UTF-8", ...opts.env },
          cwd: opts.cwd,
          encoding: "utf8",
        },
        (err, stdout, stderr) => {
          if (!err) return resolve({ exitCode: 0, stdout, stderr });
          // A numeric code is an exit status; anything else (ENOENT, an
          // abort, a timeout kill) means the command did not complete.
          if (typeof err.code === "number") return resolve({ exitCode: err.code, stdout, stderr });
          reject(err);
        },
      );
      if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
      else child.stdin?.end();
    });
  }
}
