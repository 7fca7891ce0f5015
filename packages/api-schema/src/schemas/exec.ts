/** Running commands in a capsule and managing its processes (inventory §1.5 "Exec", §2.2). */
import Type, { type Static } from "typebox";
import { annotate } from "../primitives/annotate.js";
import { CapsuleId } from "../primitives/ids.js";
import { LIMITS } from "../primitives/limits.js";
import { EnvVars, FilePath, ProcessSelector, ProcessTag } from "../primitives/strings.js";

/** The program to run: executed directly, without a shell (send `/bin/sh -c …` for shell syntax). */
export const Command = Type.String({
  minLength: 1,
  maxLength: LIMITS.cmdMaxLength,
  examples: ["/bin/sh"],
});

/** Arguments of {@link Command}. */
export const CommandArgs = Type.Array(Type.String({ maxLength: LIMITS.args.maxLength }), {
  maxItems: LIMITS.args.maxItems,
  examples: [["-c", "echo hello"]],
});

/**
 * `POST /v1/capsules/{id}/exec`. Foreground (default) waits for the exit and
 * returns the output; `background: true` returns at once with a PID and tag.
 * `envs` and `cwd` apply to both modes (the reference ignored them in the
 * foreground, inventory Appendix B.6; we honour them).
 */
export const ExecRequest = Type.Object({
  cmd: Command,
  args: Type.Optional(CommandArgs),
  timeout_sec: Type.Optional(
    Type.Integer({
      minimum: LIMITS.execTimeoutSec.min,
      maximum: LIMITS.execTimeoutSec.max,
      default: LIMITS.execTimeoutSec.default,
      description: "Foreground only: kill the command after this many seconds (0 = server default, 30).",
    }),
  ),
  background: Type.Optional(Type.Boolean({ default: false })),
  tag: Type.Optional(
    annotate(ProcessTag, { description: "Background only: a tag to find the process by; generated if omitted." }),
  ),
  envs: Type.Optional(EnvVars),
  cwd: Type.Optional(annotate(FilePath, { description: "Working directory; the user's home if omitted." })),
});

/** Answer of a foreground exec. Both streams are base64 when either is not valid UTF-8. */
export const ExecResponse = Type.Object({
  sandbox_id: CapsuleId,
  cmd: Type.String({ examples: ["/bin/sh"] }),
  stdout: Type.String({ examples: ["hello\n"] }),
  stderr: Type.String({ examples: [""] }),
  exit_code: Type.Integer({ examples: [0] }),
  duration_ms: Type.Integer({ minimum: 0 }),
  encoding: Type.Union([Type.Literal("utf-8"), Type.Literal("base64")]),
});

/** Answer (202) of a background exec. */
export const BackgroundExecResponse = Type.Object({
  sandbox_id: CapsuleId,
  cmd: Type.String({ examples: ["/bin/sh"] }),
  pid: Type.Integer({ minimum: 1 }),
  tag: ProcessTag,
});

/** A process running in a capsule. */
export const ProcessEntry = Type.Object({
  pid: Type.Integer({ minimum: 1 }),
  tag: Type.Optional(Type.String({ examples: ["proc-1a2b3c4d"] })),
  cmd: Type.String({ examples: ["/bin/sh"] }),
  args: Type.Optional(Type.Array(Type.String())),
});

/** `GET /v1/capsules/{id}/processes`. */
export const ProcessList = Type.Object({ processes: Type.Array(ProcessEntry) });

/** `{id}` and `{selector}` of the process routes. */
export const ProcessParams = Type.Object({ id: CapsuleId, selector: ProcessSelector });

/** `DELETE /v1/capsules/{id}/processes/{selector}` query. */
export const KillProcessQuery = Type.Object({
  signal: Type.Optional(Type.Union([Type.Literal("SIGKILL"), Type.Literal("SIGTERM")], { default: "SIGKILL" })),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link Command}. */
export type Command = Static<typeof Command>;
/** A value matching {@link CommandArgs}. */
export type CommandArgs = Static<typeof CommandArgs>;
/** A value matching {@link ExecRequest}. */
export type ExecRequest = Static<typeof ExecRequest>;
/** A value matching {@link ExecResponse}. */
export type ExecResponse = Static<typeof ExecResponse>;
/** A value matching {@link BackgroundExecResponse}. */
export type BackgroundExecResponse = Static<typeof BackgroundExecResponse>;
/** A value matching {@link ProcessEntry}. */
export type ProcessEntry = Static<typeof ProcessEntry>;
/** A value matching {@link ProcessList}. */
export type ProcessList = Static<typeof ProcessList>;
/** A value matching {@link ProcessParams}. */
export type ProcessParams = Static<typeof ProcessParams>;
/** A value matching {@link KillProcessQuery}. */
export type KillProcessQuery = Static<typeof KillProcessQuery>;
