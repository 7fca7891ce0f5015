import { request } from "node:http";
import { PlatformError, sleep } from "@wrenn/kit";

/** One HTTP request to the guest with a short timeout; resolves with the status, or undefined on failure. */
export function guestRequest(
  url: string,
  method = "GET",
  body?: string,
  timeoutMs = 1000,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method, timeout: timeoutMs, headers: body === undefined ? {} : { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
        res.on("error", () => resolve(undefined));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(undefined));
    req.end(body);
  });
}

/** Polls `<envdUrl>/health` until it answers 2xx; `failed` lets the caller stop early (VM died). */
export async function waitForHealth(
  envdUrl: string,
  timeoutMs: number,
  failed: () => Error | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const err = failed();
    if (err) throw err;
    const status = await guestRequest(`${envdUrl}/health`, "GET", undefined, 500);
    if (status !== undefined && status >= 200 && status < 300) return;
    if (Date.now() > deadline) {
      throw new PlatformError("deadline_exceeded", "ENVD_NOT_HEALTHY", `envd at ${envdUrl} did not become healthy`);
    }
    await sleep(25);
  }
}

/**
 * Tells envd the capsule (re)started: `POST /init` with the host's time, envd's hook for a
 * resume (clock, stale sockets). Failing it is not fatal to the capsule, so it returns the status
 * (undefined: no HTTP answer within `timeoutMs`, default 5 s).
 */
export function notifyResumed(envdUrl: string, timeoutMs = 5000): Promise<number | undefined> {
  return guestRequest(`${envdUrl}/init`, "POST", JSON.stringify({ timestamp: new Date().toISOString() }), timeoutMs);
}
