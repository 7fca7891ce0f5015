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
 * Polls `url` every `intervalMs` until it answers 2xx. Rejects when `stop` settles first
 * (the launcher exited), when `signal` aborts, or after `timeoutMs`; the message comes from
 * `describe()` so it can carry the launcher's stderr.
 */
export async function waitHealthy(
  url: string,
  opts: {
    readonly stop: Promise<unknown>;
    readonly signal?: AbortSignal;
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly describe: (why: string) => Error;
  },
): Promise<void> {
  let stopped = false;
  void opts.stop.then(() => {
    stopped = true;
  });
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (stopped) throw opts.describe("the capsule exited before envd became healthy");
    const status = await probeHealth(url, 250);
    if (status !== undefined && status >= 200 && status < 300) return;
    if (stopped) throw opts.describe("the capsule exited before envd became healthy");
    if (Date.now() > deadline) throw opts.describe(`envd did not answer ${url} within ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
