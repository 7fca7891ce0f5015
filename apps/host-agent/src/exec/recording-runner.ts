import type { Argv, CommandResult, CommandRunner, RunOptions } from "./command-runner.js";

/** One recorded call. */
export interface RecordedCall {
  readonly argv: Argv;
  readonly stdin: string | undefined;
}

/**
 * A CommandRunner for planner/applier tests: records every argv (and stdin)
 * and answers from a script (first matching rule wins; default exit 0).
 * @internal
 */
export class RecordingRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];
  readonly #rules: Array<{ match: (argv: Argv) => boolean; result: CommandResult }> = [];

  /** Answers commands matching `match` with `result`. */
  when(match: (argv: Argv) => boolean, result: Partial<CommandResult>): this {
    this.#rules.push({ match, result: { exitCode: 0, stdout: "", stderr: "", ...result } });
    return this;
  }

  async run(argv: Argv, opts: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ argv, stdin: opts.stdin });
    return this.#rules.find((r) => r.match(argv))?.result ?? { exitCode: 0, stdout: "", stderr: "" };
  }
}
