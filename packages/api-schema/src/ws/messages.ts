/**
 * JSON messages of the three capsule WebSockets (inventory §2.3). Every union
 * is discriminated by `type`. Unknown fields are ignored, so clients can send
 * extras; unknown `type`s are rejected.
 *
 * When the upgrade request carried no valid `X-API-Key` or Bearer token, the
 * first client message must be {@link WsAuthMessage} (within 5 seconds).
 */
import Type, { type Static } from "typebox";
import { annotate } from "../primitives/annotate.js";
import { LIMITS } from "../primitives/limits.js";
import { Base64, EnvVars, FilePath, ProcessTag } from "../primitives/strings.js";
import { Command, CommandArgs } from "../schemas/exec.js";

/** First-message authentication with a user JWT (API keys must be sent as a header). */
export const WsAuthMessage = Type.Object({
  type: Type.Literal("auth"),
  token: Type.String({ minLength: 1, maxLength: 8192 }),
});

/**
 * Starts the process of `/exec/stream`. `envs` and `cwd` are Wrenn additions
 * (the reference accepted only `cmd` and `args`).
 */
export const ExecStreamStartMessage = Type.Object({
  type: Type.Literal("start"),
  cmd: Command,
  args: Type.Optional(CommandArgs),
  envs: Type.Optional(EnvVars),
  cwd: Type.Optional(FilePath),
});

/** Client → server on `/v1/capsules/{id}/exec/stream`: `start` once, then `stop` to kill the process. */
export const ExecStreamClientMessage = Type.Union([
  WsAuthMessage,
  ExecStreamStartMessage,
  Type.Object({ type: Type.Literal("stop") }),
]);

/**
 * Server → client on `/exec/stream` and `/processes/{selector}/stream`.
 * `stdout`/`stderr` data is the raw output as text (not base64). The socket
 * closes after `exit` or `error`.
 */
export const ProcessEventMessage = Type.Union([
  Type.Object({ type: Type.Literal("start"), pid: Type.Integer({ minimum: 1 }) }),
  Type.Object({ type: Type.Literal("stdout"), data: Type.String() }),
  Type.Object({ type: Type.Literal("stderr"), data: Type.String() }),
  Type.Object({ type: Type.Literal("exit"), exit_code: Type.Integer() }),
  Type.Object({ type: Type.Literal("error"), data: Type.String({ examples: ["capsule is not running"] }) }),
]);

/** Server → client on `/exec/stream`. */
export const ExecStreamServerMessage = ProcessEventMessage;

/** Client → server on `/processes/{selector}/stream`: only first-message auth; the stream is read-only. */
export const ProcessStreamClientMessage = WsAuthMessage;

/** Server → client on `/processes/{selector}/stream` (`start` comes first, with the PID). */
export const ProcessStreamServerMessage = ProcessEventMessage;

const PtySize = Type.Integer({ minimum: LIMITS.ptySize.min, maximum: LIMITS.ptySize.max });

/** Opens a new terminal. Everything but `type` is optional: `/bin/bash`, 80×24 by default. */
export const PtyStartMessage = Type.Object({
  type: Type.Literal("start"),
  cmd: Type.Optional(Command),
  args: Type.Optional(CommandArgs),
  cols: Type.Optional(PtySize),
  rows: Type.Optional(PtySize),
  envs: Type.Optional(EnvVars),
  cwd: Type.Optional(FilePath),
  user: Type.Optional(Type.String({ maxLength: 64, description: "User to run as." })),
});

/** Reattaches to a running terminal by the tag its `started` message gave. */
export const PtyConnectMessage = Type.Object({ type: Type.Literal("connect"), tag: ProcessTag });

/**
 * Client → server on `/v1/capsules/{id}/pty`: `start` or `connect` first, then
 * `input` (base64 bytes), `resize` (a 0 dimension is ignored), `kill`
 * (SIGKILL) and `pong` (ignored, browsers answer pings with it).
 */
export const PtyClientMessage = Type.Union([
  WsAuthMessage,
  PtyStartMessage,
  PtyConnectMessage,
  Type.Object({ type: Type.Literal("input"), data: annotate(Base64, { maxLength: LIMITS.ptyInputMaxLength }) }),
  Type.Object({
    type: Type.Literal("resize"),
    cols: Type.Integer({ minimum: 0, maximum: LIMITS.ptySize.max }),
    rows: Type.Integer({ minimum: 0, maximum: LIMITS.ptySize.max }),
  }),
  Type.Object({ type: Type.Literal("kill") }),
  Type.Object({ type: Type.Literal("pong") }),
]);

/**
 * Server → client on `/pty`: `started` (new terminals only), `output` (base64
 * terminal bytes), `exit`, `error` (`fatal` ends the session) and a `ping`
 * every 30 seconds. The process outlives the socket; reconnect with its tag.
 */
export const PtyServerMessage = Type.Union([
  Type.Object({ type: Type.Literal("started"), tag: ProcessTag, pid: Type.Integer({ minimum: 1 }) }),
  Type.Object({ type: Type.Literal("output"), data: Base64 }),
  Type.Object({ type: Type.Literal("exit"), exit_code: Type.Integer() }),
  Type.Object({ type: Type.Literal("error"), data: Type.String(), fatal: Type.Boolean() }),
  Type.Object({ type: Type.Literal("ping") }),
]);

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link WsAuthMessage}. */
export type WsAuthMessage = Static<typeof WsAuthMessage>;
/** A value matching {@link ExecStreamStartMessage}. */
export type ExecStreamStartMessage = Static<typeof ExecStreamStartMessage>;
/** A value matching {@link ExecStreamClientMessage}. */
export type ExecStreamClientMessage = Static<typeof ExecStreamClientMessage>;
/** A value matching {@link ProcessEventMessage}. */
export type ProcessEventMessage = Static<typeof ProcessEventMessage>;
/** A value matching {@link ExecStreamServerMessage}. */
export type ExecStreamServerMessage = Static<typeof ExecStreamServerMessage>;
/** A value matching {@link ProcessStreamClientMessage}. */
export type ProcessStreamClientMessage = Static<typeof ProcessStreamClientMessage>;
/** A value matching {@link ProcessStreamServerMessage}. */
export type ProcessStreamServerMessage = Static<typeof ProcessStreamServerMessage>;
/** A value matching {@link PtyStartMessage}. */
export type PtyStartMessage = Static<typeof PtyStartMessage>;
/** A value matching {@link PtyConnectMessage}. */
export type PtyConnectMessage = Static<typeof PtyConnectMessage>;
/** A value matching {@link PtyClientMessage}. */
export type PtyClientMessage = Static<typeof PtyClientMessage>;
/** A value matching {@link PtyServerMessage}. */
export type PtyServerMessage = Static<typeof PtyServerMessage>;
