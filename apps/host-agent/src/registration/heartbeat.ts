/**
 * The heartbeat loop (inventory §5.15 step 4): at start and every 30 s. 401/403 → refresh the
 * tokens and certificate, save them, hot-swap the TLS certificate, beat again; a failed refresh
 * pauses every capsule and stops the loop (the agent can no longer prove who it is). 404 → the
 * control plane deleted this host: the credentials are removed and the agent shuts down.
 * Three failures in a row (no answer, 5xx) → every running capsule is paused once per outage
 * and reported as auto-paused, so the control plane marks them paused (not lost) when it is
 * back — the reference paused them silently (Appendix B.5).
 */
import { type Logger, silentLogger } from "@wrenn/kit";
import type { ControlPlaneClient } from "./cp-client.js";
import { deleteCredentials, type HostCredentials, saveCredentials } from "./credentials.js";

/** Options of {@link HeartbeatLoop}. */
export interface HeartbeatOptions {
  readonly client: ControlPlaneClient;
  readonly credentials: HostCredentials;
  /** Where refreshed credentials are saved (and what a 404 deletes). */
  readonly credentialsPath: string;
  /** Pauses every running capsule and reports them auto-paused; resolves with their ids. */
  readonly pauseAll: () => Promise<readonly string[]>;
  /** New credentials after a refresh (hot-swap the server's certificate). */
  readonly onCredentials?: (c: HostCredentials) => void;
  /** The control plane deleted this host: shut the agent down. */
  readonly onGone: () => void;
  /** @default 30_000 */
  readonly intervalMs?: number;
  /** Consecutive failed heartbeats before capsules are paused. @default 3 */
  readonly failuresBeforePause?: number;
  readonly log?: Logger;
}

/** What the loop is doing, for logs and tests. */
export type HeartbeatState = "running" | "stopped" | "refresh-failed" | "gone";

/** Heartbeats until disposed (or until the host is gone or its refresh failed). */
export class HeartbeatLoop implements AsyncDisposable {
  readonly #o: HeartbeatOptions;
  readonly #log: Logger;
  #creds: HostCredentials;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | undefined;
  #failures = 0;
  #pausedThisOutage = false;
  #state: HeartbeatState = "running";

  constructor(o: HeartbeatOptions) {
    this.#o = o;
    this.#log = o.log ?? silentLogger;
    this.#creds = o.credentials;
  }

  /** Current credentials (refreshed ones once a refresh happened). */
  get credentials(): HostCredentials {
    return this.#creds;
  }

  get state(): HeartbeatState {
    return this.#state;
  }

  /** Consecutive failed heartbeats so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Beats now, then every interval. */
  start(): void {
    this.#run();
  }

  #run(): void {
    if (this.#state !== "running") return;
    this.#inFlight = this.#beat()
      .catch((err: unknown) => this.#log.error({ err: String(err) }, "heartbeat step failed"))
      .finally(() => {
        this.#inFlight = undefined;
        if (this.#state !== "running") return;
        this.#timer = setTimeout(() => this.#run(), this.#o.intervalMs ?? 30_000);
        // The server keeps the agent alive; a pending heartbeat alone must not.
        this.#timer.unref();
      });
  }

  async #beat(): Promise<void> {
    let outcome = await this.#o.client.heartbeat(this.#creds);
    if (outcome.kind === "unauthorized") {
      this.#log.warn({ status: outcome.status }, "heartbeat refused: refreshing the host token");
      try {
        this.#creds = await this.#o.client.refresh(this.#creds);
      } catch (err) {
        this.#state = "refresh-failed";
        this.#log.error({ err: String(err) }, "host token refresh failed: pausing every capsule, heartbeats stop");
        await this.#pause();
        return;
      }
      await saveCredentials(this.#o.credentialsPath, this.#creds);
      this.#o.onCredentials?.(this.#creds);
      this.#log.info({}, "host token and certificate refreshed");
      outcome = await this.#o.client.heartbeat(this.#creds);
    }
    switch (outcome.kind) {
      case "ok":
        if (this.#failures > 0) this.#log.info({ after: this.#failures }, "control plane reachable again");
        this.#failures = 0;
        this.#pausedThisOutage = false;
        return;
      case "gone":
        this.#state = "gone";
        this.#log.warn({}, "the control plane no longer knows this host: deleting credentials and shutting down");
        await deleteCredentials(this.#o.credentialsPath);
        this.#o.onGone();
        return;
      case "unauthorized":
        this.#log.error({ status: outcome.status }, "heartbeat refused right after a token refresh");
        this.#failures++;
        return;
      case "failed":
        this.#failures++;
        this.#log.warn({ failures: this.#failures, reason: outcome.reason }, "heartbeat failed");
        if (this.#failures >= (this.#o.failuresBeforePause ?? 3) && !this.#pausedThisOutage) {
          this.#pausedThisOutage = true;
          await this.#pause();
        }
    }
  }

  async #pause(): Promise<void> {
    const ids = await this.#o.pauseAll();
    this.#log.warn(
      { paused: ids.length },
      "control plane unreachable or untrusted: capsules paused (reported as auto-paused)",
    );
  }

  /** Stops the loop; waits for a heartbeat in flight. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === "running") this.#state = "stopped";
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#inFlight;
  }
}
