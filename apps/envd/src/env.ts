import type { Logger } from "@wrenn/kit";
import type { EnvdState } from "./envd-state.js";
import type { ProcessTable } from "./process/process-table.js";
import type { UserDatabase } from "./users.js";

/** What every envd handler may use; built once in `createEnvd`. */
export interface EnvdEnv {
  readonly version: string;
  readonly state: EnvdState;
  readonly users: UserDatabase;
  readonly processes: ProcessTable;
  readonly log: Logger;
}
