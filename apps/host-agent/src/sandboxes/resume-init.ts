/**
 * envd's `/init` right after a resume. The capsule is thawed (or restored) and envd's listening
 * socket is usually answering at once, so `/init` goes out immediately: the old way polled
 * `/health` first (every 50 ms) and paid a round trip, sometimes a poll interval, on every
 * resume. Only when envd cannot be reached (a VM whose network is not back yet) does this
 * fall back to polling `/health` and then sends `/init` again.
 */
import { type EnvdClient, EnvdHttpError } from "../envd-client/envd-client.js";

/** Options of {@link initAfterResume}. */
export interface ResumeInitOptions {
  /** Deadline of the `/health` polling once the first `/init` found nobody. */
  readonly healthTimeoutMs: number;
  /** How long the first `/init` may take before the fallback starts. @default 2000 */
  readonly firstTryMs?: number;
  /** Poll interval of the fallback. @default 10 */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Sends `/init` (the body is built per attempt, so each carries a fresh clock; envd ignores an
 * older one) and resolves once envd applied it. An HTTP error from envd (400, 401…) is final:
 * envd was reachable and refused. Any other failure means envd was not reachable yet.
 */
export async function initAfterResume(
  envd: EnvdClient,
  body: () => Record<string, unknown>,
  opts: ResumeInitOptions,
): Promise<void> {
  const { signal } = opts;
  const first = AbortSignal.timeout(opts.firstTryMs ?? 2000);
  try {
    await envd.init(body(), signal ? AbortSignal.any([signal, first]) : first);
    return;
  } catch (err) {
    if (err instanceof EnvdHttpError) throw err;
    signal?.throwIfAborted();
  }
  const deadline = AbortSignal.timeout(opts.healthTimeoutMs);
  await envd.waitHealthy(signal ? AbortSignal.any([deadline, signal]) : deadline, opts.pollMs ?? 10);
  await envd.init(body(), signal);
}
