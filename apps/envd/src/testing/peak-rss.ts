/**
 * Runs `work` while sampling `rss` every `everyMs`; returns the work's value
 * and the highest sample (taken at least once, before the work starts).
 * @internal
 */
export async function withPeakRss<T>(
  rss: () => Promise<number>,
  work: () => Promise<T>,
  everyMs = 50,
): Promise<{ value: T; peak: number }> {
  let peak = await rss();
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await rss());
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    return { value: await work(), peak };
  } finally {
    running = false;
    await sampler;
  }
}
