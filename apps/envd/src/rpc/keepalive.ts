import type { HandlerContext } from "@connectrpc/connect";

/** Request header (seconds) asking a server stream to send keepalive events. */
export const KEEPALIVE_HEADER = "keepalive-ping-interval";

/**
 * Interval when the client sends no header (as E2B envd does): long silent
 * streams (a quiet command, an idle watcher) still show life to proxies and
 * load balancers that cut idle connections.
 */
export const DEFAULT_KEEPALIVE_MS = 90_000;

/** Bounds for the requested interval, so a client cannot make envd spin or never ping. */
const MIN_SECONDS = 1;
const MAX_SECONDS = 3600;

/**
 * The keepalive interval in ms requested by the client; DEFAULT_KEEPALIVE_MS
 * when the header is absent or not a positive number. Out-of-range values
 * are clamped.
 */
export function keepaliveIntervalMs(ctx: HandlerContext): number {
  const raw = ctx.requestHeader.get(KEEPALIVE_HEADER);
  if (raw === null) return DEFAULT_KEEPALIVE_MS;
  const seconds = Number(raw.trim());
  if (!Number.isFinite(seconds) || seconds <= 0) return DEFAULT_KEEPALIVE_MS;
  return Math.min(MAX_SECONDS, Math.max(MIN_SECONDS, seconds)) * 1000;
}
