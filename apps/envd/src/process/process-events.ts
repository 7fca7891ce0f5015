import { create } from "@bufbuild/protobuf";
import { type ProcessEvent, ProcessEventSchema } from "@wrenn/protocol/envd/process";
import type { OutputName } from "./child-io.js";
import type { EndStatus } from "./exit-status.js";

/** `start{pid}`: the first event of every Start and Connect stream. */
export function startEvent(pid: number): ProcessEvent {
  return create(ProcessEventSchema, { event: { case: "start", value: { pid } } });
}

/** `data{stdout|stderr|pty}` carrying one output chunk. */
export function dataEvent(stream: OutputName, bytes: Uint8Array): ProcessEvent {
  return create(ProcessEventSchema, { event: { case: "data", value: { output: { case: stream, value: bytes } } } });
}

/** `end{exit_code, exited, status, error?}`: the last event of every stream. */
export function endEvent(status: EndStatus): ProcessEvent {
  return create(ProcessEventSchema, {
    event: {
      case: "end",
      value: { exitCode: status.exitCode, exited: status.exited, status: status.status, error: status.error },
    },
  });
}

/** `keepalive{}`: sent on a silent stream when the client asked for it. */
export function keepaliveEvent(): ProcessEvent {
  return create(ProcessEventSchema, { event: { case: "keepalive", value: {} } });
}
