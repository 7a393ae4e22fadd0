/** Medians and tables for the benchmarks. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Row {
  metric: string;
  profile: string;
  samples: number[];
  unit: string;
}

/** A Markdown table: median, min, max and count per row, figures rounded to what they can tell. */
export function table(rows: Row[]): string {
  const fmt = (v: number, unit: string) =>
    unit === "s"
      ? (v / 1000).toFixed(2)
      : unit === "%" || unit === "MiB"
        ? v.toFixed(1)
        : String(Math.round(v));
  const lines = ["| metric | profile | median | min | max | runs |", "|---|---|---|---|---|---|"];
  for (const r of rows) {
    if (r.samples.length === 0) continue;
    lines.push(
      `| ${r.metric} (${r.unit}) | ${r.profile} | ${fmt(median(r.samples), r.unit)} | ${fmt(Math.min(...r.samples), r.unit)} | ${fmt(Math.max(...r.samples), r.unit)} | ${r.samples.length} |`,
    );
  }
  return lines.join("\n");
}
