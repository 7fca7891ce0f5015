/**
 * Polls `cond` every 10 ms until it holds, for state that only callbacks
 * reveal (SDK onStdout/onEvent). Rejects after `timeoutMs`.
 * @internal
 */
export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
