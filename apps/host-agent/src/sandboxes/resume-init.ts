/**
 * envd's `/init` right after a resume. The capsule is thawed (or restored) and envd's listening
 * socket is usually answering at once, so `/init` goes out immediately: the old way polled
 * `/health` first (every 50 ms) and paid a round trip, sometimes a poll interval, on every
 * resume. Only when envd cannot be reached (a VM whose network is not back yet) does this
 * fall back to polling `/health` and then sends `/init` again.
 *
 * After a pause in place (cgroup freezer, SIGSTOP) envd usually needs no `/init` at all: see
 * {@link needsInitAfterResume}.
 */
import { type EnvdClient, EnvdHttpError } from "../envd-client/envd-client.js";
import type { CreateSandboxInput } from "./sandbox-types.js";

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

/**
 * Whether envd must get `/init` after a resume. Always after a restore: the guest comes back from
 * a snapshot with the clock, sockets and settings of the moment it was taken (and the template id
 * only from what `/init` hands it). After a pause in place nothing was lost: the processes kept
 * their memory and the host's clock, so `/init` is needed only when ResumeSandbox changed what
 * envd holds — the default user, the access token, or an env var (added, or with a new value;
 * `after` merges over `before`, so none can disappear).
 */
export function needsInitAfterResume(
  pausesInPlace: boolean,
  before: CreateSandboxInput,
  after: CreateSandboxInput,
): boolean {
  if (!pausesInPlace) return true;
  if ((before.defaultUser ?? "root") !== (after.defaultUser ?? "root")) return true;
  if (before.accessToken !== after.accessToken) return true;
  const held = before.envVars ?? {};
  return Object.entries(after.envVars ?? {}).some(([k, v]) => !Object.hasOwn(held, k) || held[k] !== v);
}
