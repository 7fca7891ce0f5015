import type { HandlerContext } from "@connectrpc/connect";

/** Request header (seconds) asking a server stream to send keepalive events. */
export const KEEPALIVE_HEADER = "keepalive-ping-interval";

/** Bounds for the requested interval, so a client cannot make envd spin or never ping. */
const MIN_SECONDS = 1;
const MAX_SECONDS = 3600;

/**
 * The keepalive interval in ms requested by the client, or undefined when the
 * header is absent or not a number. Out-of-range values are clamped.
 */
export function keepaliveIntervalMs(ctx: HandlerContext): number | undefined {
  const raw = ctx.requestHeader.get(KEEPALIVE_HEADER);
  if (raw === null) return undefined;
  const seconds = Number(raw.trim());
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.min(MAX_SECONDS, Math.max(MIN_SECONDS, seconds)) * 1000;
}
