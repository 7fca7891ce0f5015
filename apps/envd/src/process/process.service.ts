import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Process,
  type ProcessConfig,
  type ProcessInput,
  Signal,
  type StartRequest,
} from "@wrenn/protocol/envd/process";
import type { EnvdEnv } from "../env.js";
import { keepaliveIntervalMs } from "../rpc/keepalive.js";
import { requestUser } from "../rpc/request-user.js";
import type { ManagedProcess } from "./managed-process.js";
import { startEvent } from "./process-events.js";
import { pumpEvents } from "./process-stream.js";
import { selectProcess } from "./selectors.js";
import { type ProcessRequest, prepareSpawn, ptySize } from "./spawn-spec.js";

/** A client disconnect this close to the Start deadline counts as the deadline. */
const DEADLINE_SLACK_MS = 1000;

/**
 * The envd `process.Process` service (E2B envd wire protocol). Every RPC
 * resolves the request's user first, so an unknown user is Unauthenticated
 * everywhere; processes run as that user (Start only).
 */
export function createProcessService(env: EnvdEnv): ServiceImpl<typeof Process> {
  const table = env.processes;
  return {
    async *start(req, ctx) {
      const user = requestUser(env, ctx);
      const config = req.process;
      if (!config) throw new ConnectError("process is required", Code.InvalidArgument);
      const spec = await prepareSpawn(user, processRequest(req, config), {
        envVars: env.state.envVars,
        defaultWorkdir: env.state.defaultWorkdir,
      });
      const { process: proc, output } = await table.start({ spec, config, tag: req.tag });
      // The request deadline is the SDK's command timeout: it kills the
      // process. A client that merely disconnects leaves it running.
      const timeoutMs = ctx.timeoutMs();
      if (timeoutMs !== undefined) {
        proc.killAfter(timeoutMs);
        // The client's clock started before ours, so it usually gives up
        // (and disconnects) just before our timer fires; a disconnect that
        // close to the deadline is the deadline, and the kill must already
        // show when the client asks what is still running.
        ctx.signal.addEventListener("abort", () => {
          const left = ctx.timeoutMs();
          if (left !== undefined && left <= DEADLINE_SLACK_MS) proc.signal("SIGKILL");
        });
      }
      yield* pumpEvents({
        first: startEvent(proc.pid),
        output,
        signal: ctx.signal,
        keepaliveMs: keepaliveIntervalMs(ctx),
      });
    },

    async *connect(req, ctx) {
      requestUser(env, ctx);
      const proc = selectProcess(table, req.process);
      const output = proc.subscribe();
      yield* pumpEvents({
        first: startEvent(proc.pid),
        output,
        signal: ctx.signal,
        keepaliveMs: keepaliveIntervalMs(ctx),
      });
    },

    list(_req, ctx) {
      requestUser(env, ctx);
      return { processes: table.list().map((p) => ({ config: p.config, pid: p.pid, tag: p.tag })) };
    },

    async sendInput(req, ctx) {
      requestUser(env, ctx);
      await writeInput(selectProcess(table, req.process), req.input);
      return {};
    },

    async streamInput(requests, ctx) {
      requestUser(env, ctx);
      let proc: ManagedProcess | undefined;
      for await (const msg of requests) {
        switch (msg.event.case) {
          case "start":
            proc = selectProcess(table, msg.event.value.process);
            break;
          case "data":
            if (!proc) throw new ConnectError("the first message must be start{process}", Code.FailedPrecondition);
            await writeInput(proc, msg.event.value.input);
            break;
          case "keepalive":
            break;
          default:
            throw new ConnectError("stream input message has no event", Code.InvalidArgument);
        }
      }
      return {};
    },

    sendSignal(req, ctx) {
      requestUser(env, ctx);
      const signal = signalOf(req.signal);
      selectProcess(table, req.process).signal(signal);
      return {};
    },

    closeStdin(req, ctx) {
      requestUser(env, ctx);
      selectProcess(table, req.process).closeStdin();
      return {};
    },

    update(req, ctx) {
      requestUser(env, ctx);
      const proc = selectProcess(table, req.process);
      // PTY size is the only thing Update changes; without it there is nothing to do.
      if (req.pty) {
        if (!proc.hasPty) throw new ConnectError("process has no PTY to resize", Code.FailedPrecondition);
        proc.resize(ptySize(req.pty.size ?? { cols: 0, rows: 0 }));
      }
      return {};
    },
  };
}

function processRequest(req: StartRequest, config: ProcessConfig): ProcessRequest {
  return {
    cmd: config.cmd,
    args: config.args,
    envs: config.envs,
    cwd: config.cwd,
    pty: req.pty ? { cols: req.pty.size?.cols ?? 0, rows: req.pty.size?.rows ?? 0 } : undefined,
    // E2B: stdin stays open unless explicitly disabled (older SDKs never send the field).
    stdin: req.stdin ?? true,
  };
}

async function writeInput(proc: ManagedProcess, input: ProcessInput | undefined): Promise<void> {
  const choice = input?.input;
  switch (choice?.case) {
    case "stdin":
    case "pty":
      await proc.write(choice.case, choice.value);
      return;
    default:
      throw new ConnectError("input is required: set stdin or pty bytes", Code.InvalidArgument);
  }
}

function signalOf(signal: Signal): NodeJS.Signals {
  switch (signal) {
    case Signal.SIGTERM:
      return "SIGTERM";
    case Signal.SIGKILL:
      return "SIGKILL";
    case Signal.UNSPECIFIED:
      throw new ConnectError("signal is required (SIGTERM or SIGKILL)", Code.InvalidArgument);
    default:
      throw new ConnectError(`unsupported signal ${String(signal)}: use SIGTERM or SIGKILL`, Code.InvalidArgument);
  }
}
