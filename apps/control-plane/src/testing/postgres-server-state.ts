/**
 * What the test PostgreSQL supervisor and its clients agree on: the state
 * directory layout and the connection details written to ready.json.
 */

/** State directories are `${os.tmpdir()}/wrenn-pg-<owner pid>`. */
export const STATE_DIR_PREFIX = "wrenn-pg-";
/** Written (atomically) once the server and the template database are ready: a PostgresServerInfo. */
export const READY_FILE = "ready.json";
/** Written instead of READY_FILE when startup failed: the reason. */
export const FAILED_FILE = "failed.txt";
/** The supervisor's PID, so clients and later sweeps can tell whether it still runs. */
export const SUPERVISOR_PID_FILE = "supervisor.pid";
/** Migrated database every test database is cloned from. */
export const TEMPLATE_DATABASE = "wrenn_template";

/** The running test server. */
export interface PostgresServerInfo {
  /** Directory of the unix socket (the server listens on no TCP port). */
  readonly socketDir: string;
  /** Superuser to connect as (trust authentication). */
  readonly user: string;
  readonly templateDatabase: string;
  /** Server major version, e.g. 15. */
  readonly version: number;
  readonly serverPid: number;
  readonly supervisorPid: number;
}

/** Connection string for `database` on the test server (unix socket). */
export function serverUrl(info: PostgresServerInfo, database: string): string {
  return `postgresql://${info.user}@/${database}?host=${encodeURIComponent(info.socketDir)}`;
}
