/** Command handlers: foreground exec, streamed exec, background processes. */

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { type ProcessEvent, Signal } from "@wrenn/protocol/envd/process";
import type { ExecStreamResponseSchema, HostAgentService } from "@wrenn/protocol/hostagent/v1";
import type { EnvdClient } from "../envd-client/envd-client.js";
import { type HostAgentDeps, runningEnvd } from "./context.js";
import { toConnectError } from "./errors.js";
import { defaultTag, parseSignal, processConfig, selector, userHeaders } from "./process-config.js";

type Impl = ServiceImpl<typeof HostAgentService>;
type StreamEvent = MessageInitShape<typeof ExecStreamResponseSchema>;

/** Default deadline of a foreground Exec (reference: 30 s). */
export const EXEC_DEFAULT_TIMEOUT_SEC = 30;

/** One envd process event as an ExecStream event; keepalives map to nothing. */
export function execEvent(ev: ProcessEvent["event"]): StreamEvent | undefined {
  switch (ev.case) {
    case "start":
      return { event: { case: "start", value: { pid: ev.value.pid } } };
    case "data": {
      const o = ev.value.output;
      if (o.case === "stdout" || o.case === "stderr") return { event: { case: "data", value: { output: o } } };
      return undefined;
    }
    case "end":
      return { event: { case: "end", value: { exitCode: ev.value.exitCode, error: ev.value.error ?? "" } } };
    default:
      return undefined;
  }
}

/**
 * Yields envd's events; when `killOnAbandon` is given and the stream stops before the
 * process ended (deadline, caller gone, error), the process is SIGKILLed so a timed-out
 * exec does not keep running in the guest unseen.
 */
async function* follow(
  events: AsyncIterable<{ event?: ProcessEvent }>,
  killOnAbandon?: EnvdClient,
): AsyncGenerator<ProcessEvent["event"]> {
  let pid: number | undefined;
  let ended = false;
  try {
    for await (const r of events) {
      const ev = r.event?.event;
      if (!ev) continue;
      if (ev.case === "start") pid = ev.value.pid;
      if (ev.case === "end") ended = true;
      yield ev;
    }
  } finally {
    if (killOnAbandon && pid !== undefined && !ended) {
      const process = { selector: { case: "pid" as const, value: pid } };
      // Best effort: the process may have ended meanwhile; nothing waits for this.
      killOnAbandon.process.sendSignal({ process, signal: Signal.SIGKILL }, { timeoutMs: 5000 }).catch(() => {});
    }
  }
}

/** Relays envd events as ExecStream events. */
async function* relay(events: AsyncIterable<ProcessEvent["event"]>): AsyncGenerator<StreamEvent> {
  for await (const ev of events) {
    const out = execEvent(ev);
    if (out) yield out;
  }
}

/** The command part of the service. */
export function execHandlers(
  deps: HostAgentDeps,
): Pick<Impl, "exec" | "execStream" | "startBackground" | "listProcesses" | "killProcess" | "connectProcess"> {
  return {
    async exec(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, true);
      const cfg = processConfig(req);
      const timeoutMs = (req.timeoutSec > 0 ? req.timeoutSec : EXEC_DEFAULT_TIMEOUT_SEC) * 1000;
      const out: Uint8Array[] = [];
      const err: Uint8Array[] = [];
      let exitCode = -1;
      const events = envd.process.start(
        { process: cfg, stdin: false },
        { signal: ctx.signal, timeoutMs, headers: userHeaders(req.user) },
      );
      for await (const ev of follow(events, envd)) {
        if (ev?.case === "data" && ev.value.output.case === "stdout") out.push(ev.value.output.value);
        if (ev?.case === "data" && ev.value.output.case === "stderr") err.push(ev.value.output.value);
        if (ev?.case === "end") exitCode = ev.value.exitCode;
      }
      return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode };
    },
    execStream(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, true);
      const cfg = processConfig(req);
      const headers = userHeaders(req.user);
      const opts =
        req.timeoutSec > 0
          ? { signal: ctx.signal, timeoutMs: req.timeoutSec * 1000, headers }
          : { signal: ctx.signal, headers };
      return relay(follow(envd.process.start({ process: cfg, stdin: false }, opts), envd));
    },
    async startBackground(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, true);
      const cfg = processConfig(req);
      const tag = req.tag || defaultTag();
      // The envd stream is abandoned after the start event: aborting our side closes the
      // HTTP request, the process keeps running in the guest.
      const stop = new AbortController();
      const signal = AbortSignal.any([ctx.signal, stop.signal]);
      try {
        const headers = userHeaders(req.user);
        for await (const r of envd.process.start({ process: cfg, tag, stdin: false }, { signal, headers })) {
          const ev = r.event?.event;
          if (ev?.case === "start") return { pid: ev.value.pid, tag };
        }
      } finally {
        stop.abort();
      }
      throw toConnectError(new Error("envd ended the stream before the process started"));
    },
    async listProcesses(req, ctx) {
      const envd = runningEnvd(deps, req.sandboxId, true);
      const res = await envd.process.list({}, { signal: ctx.signal });
      return {
        processes: res.processes.map((p) => ({
          pid: p.pid,
          tag: p.tag ?? "",
          cmd: p.config?.cmd ?? "",
          args: [...(p.config?.args ?? [])],
        })),
      };
    },
    async killProcess(req, ctx) {
      const sel = selector(req.selector);
      const signal = parseSignal(req.signal);
      const envd = runningEnvd(deps, req.sandboxId, true);
      await envd.process.sendSignal({ process: sel, signal }, { signal: ctx.signal });
      return {};
    },
    connectProcess(req, ctx) {
      const sel = selector(req.selector);
      const envd = runningEnvd(deps, req.sandboxId, true);
      // Detaching from a process someone else started must not kill it: no killOnAbandon.
      return relay(follow(envd.process.connect({ process: sel }, { signal: ctx.signal })));
    },
  };
}
