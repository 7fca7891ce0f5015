import type { Summary } from "./stats.js";

/**
 * A summary as one table cell, e.g. `med 12.3 · p99 20.1 ms (n=20)`. The sample count is
 * printed because with few samples the p99 is simply the slowest run.
 */
export function fmtSummary(s: Summary, unit: string, decimals = 1): string {
  if (s.n === 0) return "—";
  return `med ${s.median.toFixed(decimals)} · p99 ${s.p99.toFixed(decimals)} ${unit} (n=${s.n})`;
}

/** `value / floor` as `1.63x`; empty when the floor is zero, negative or not a number. */
export function fmtRatio(value: number, floor: number, decimals = 2): string {
  if (!(floor > 0) || !Number.isFinite(value)) return "";
  return `${(value / floor).toFixed(decimals)}x`;
}

/** "ok" when `value` is strictly below `limit`, else "MISS" (NaN misses). */
export function below(value: number, limit: number): "ok" | "MISS" {
  return value < limit ? "ok" : "MISS";
}

/** "ok" when `value` is at least `limit`, else "MISS" (NaN misses). */
export function atLeast(value: number, limit: number): "ok" | "MISS" {
  return value >= limit ? "ok" : "MISS";
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** Bytes in binary units with three significant digits, e.g. `8.12 MiB`, `512 B`, `1.50 GiB`. */
export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const sign = bytes < 0 ? "-" : "";
  if (u === 0) return `${sign}${v} B`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${UNITS[u]}`;
}
