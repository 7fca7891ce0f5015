/**
 * Mutable runtime settings of envd, set by `POST /init` (the host agent calls
 * it after every boot, restore and resume).
 */
export class EnvdState {
  /** User for requests that name none (Basic auth / `username`). */
  defaultUser: string;
  /** Working directory for processes and relative paths; the user's home when unset. */
  defaultWorkdir: string | undefined;
  /** When set, every request but /health must carry it in X-Access-Token. */
  accessToken: string | undefined;
  /** Timestamp (ms) of the last applied /init; older /init calls are ignored. */
  lastInitAt: number | undefined;
  /** Environment variables every process gets (below the request's own). */
  readonly envVars = new Map<string, string>();
  /** Set by /snapshot/prepare; the next /init or /health runs restore recovery. */
  needsRestore = false;

  constructor(defaultUser: string) {
    this.defaultUser = defaultUser;
  }
}
