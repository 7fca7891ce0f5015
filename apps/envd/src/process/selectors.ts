import { Code, ConnectError } from "@connectrpc/connect";
import type { ProcessSelector } from "@wrenn/protocol/envd/process";
import type { ManagedProcess } from "./managed-process.js";
import type { ProcessTable } from "./process-table.js";

/**
 * The process a request's selector names. Throws InvalidArgument for a
 * missing or empty selector and NotFound for a pid or tag that names no
 * running process (the e2b SDK's `kill` turns NotFound into `false`).
 */
export function selectProcess(table: ProcessTable, selector: ProcessSelector | undefined): ManagedProcess {
  const choice = selector?.selector;
  switch (choice?.case) {
    case "pid": {
      const proc = table.byPid(choice.value);
      if (!proc) throw new ConnectError(`process with pid ${choice.value} not found`, Code.NotFound);
      return proc;
    }
    case "tag": {
      if (choice.value === "") throw new ConnectError("process selector tag must not be empty", Code.InvalidArgument);
      const proc = table.byTag(choice.value);
      if (!proc) throw new ConnectError(`process with tag '${truncate(choice.value)}' not found`, Code.NotFound);
      return proc;
    }
    default:
      throw new ConnectError("process selector is required: set pid or tag", Code.InvalidArgument);
  }
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
