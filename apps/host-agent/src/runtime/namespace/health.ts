import { request } from "node:http";

/** One GET with its own socket (no keep-alive pool: the capsule may be about to freeze). */
export function probeHealth(url: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/**
 * Waits until `url` answers 2xx. Rejects when `stop` settles first (the launcher exited), when
 * `signal` aborts, or after `timeoutMs`; the message comes from `describe()` so it can carry
 * the launcher's stderr.
 *
 * With `ready` (a cheap synchronous hint, such as "envd printed its listening line"), a probe
 * goes out as soon as the hint turns true and otherwise only every `intervalMs`: each probe is
 * a connect that the not yet listening guest refuses, and probing every 2 ms competed for the
 * CPU with the very envd start it waited for. Without a hint it probes every `intervalMs`.
 */
export async function waitHealthy(
  url: string,
  opts: {
    readonly stop: Promise<unknown>;
    readonly signal?: AbortSignal;
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly ready?: () => boolean;
    /** How often the hint is checked. @default 1 */
    readonly hintIntervalMs?: number;
    readonly describe: (why: string) => Error;
  },
): Promise<void> {
  let stopped = false;
  void opts.stop.then(() => {
    stopped = true;
  });
  const deadline = Date.now() + opts.timeoutMs;
  const exited = () => opts.describe("the capsule exited before envd became healthy");
  let hinted = false;
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (stopped) throw exited();
    const status = await probeHealth(url, 250);
    if (status !== undefined && status >= 200 && status < 300) return;
    if (stopped) throw exited();
    if (Date.now() > deadline) throw opts.describe(`envd did not answer ${url} within ${opts.timeoutMs} ms`);
    const next = Date.now() + opts.intervalMs;
    // Once the hint fired, envd listens: a failed probe then means "not yet", poll steadily.
    while (!hinted && Date.now() < next && !stopped && !opts.signal?.aborted) {
      if (opts.ready?.()) {
        hinted = true;
        break;
      }
      await new Promise((r) => setTimeout(r, opts.ready ? (opts.hintIntervalMs ?? 1) : next - Date.now()));
    }
    if (hinted) await new Promise((r) => setTimeout(r, 1));
  }
}
