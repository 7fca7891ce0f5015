/** One printed benchmark row: the measurement, its floor from the same run, and the target. */
export interface Row {
  readonly metric: string;
  readonly value: string;
  readonly floor?: string;
  readonly ratio?: string;
  readonly target?: string;
  readonly verdict?: "ok" | "MISS" | "";
}

/** Renders rows as an aligned plain-text table. */
export function renderTable(title: string, rows: readonly Row[]): string {
  const header = ["metric", "value", "floor (same run)", "ratio", "target", ""];
  const body = rows.map((r) => [r.metric, r.value, r.floor ?? "", r.ratio ?? "", r.target ?? "", r.verdict ?? ""]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [`\n${title}`, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line), ""].join("\n");
}

/** Formats a number with a fixed number of decimals and a unit. */
export function fmt(value: number, unit: string, decimals = 2): string {
  return `${value.toFixed(decimals)} ${unit}`;
}
