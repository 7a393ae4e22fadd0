/**
 * The VIP benchmark's wide table (lab/bench/stats.ts `table` has one metric per row; this one three):
 * per scenario and profile, median/min/max of the failover time, of the failed share and of the VIP
 * moves, and the scenario's extra figures. "≥" marks a bound: the thing had not happened when the watch
 * ended.
 */
import { median } from "../stats";
import { Figure, Scenario, SCENARIOS } from "./scenarios";

interface Stat {
  median: number;
  min: number;
  max: number;
  /** The median, min or max is a bound (the thing did not happen in time). */
  medianCensored: boolean;
  minCensored: boolean;
  maxCensored: boolean;
}

function stat(values: Array<{ v: number; c?: boolean }>): Stat | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a.v - b.v || Number(!!a.c) - Number(!!b.c));
  const m = Math.floor(s.length / 2);
  const mid = s.length % 2 ? [s[m]] : [s[m - 1], s[m]];
  return {
    median: median(s.map((x) => x.v)),
    min: s[0].v,
    max: s[s.length - 1].v,
    medianCensored: mid.some((x) => x.c),
    minCensored: !!s[0].c,
    maxCensored: !!s[s.length - 1].c,
  };
}

export interface VipRow {
  scenario: Scenario;
  profile: string;
  figures: Figure[];
}

const sec = (v: number, c = false) => `${c ? "≥" : ""}${(v / 1000).toFixed(2)}`;
const three = (s: Stat | undefined, f: (v: number, c?: boolean) => string) =>
  s ? [f(s.median, s.medianCensored), f(s.min, s.minCensored), f(s.max, s.maxCensored)] : ["-", "-", "-"];

/** The extra figures of a row: "label: median (min-max)", with how many tries had one. */
function extras(r: VipRow): string {
  return r.scenario.extras
    .map((x) => {
      const got = r.figures.map((f) => f.extras?.[x.key]).filter((e) => e !== undefined);
      const st = stat(got);
      const fmt = (v: number, c = false) =>
        x.unit === "s" ? sec(v, c) : `${c ? "≥" : ""}${Math.round(v * 10) / 10}`;
      if (!st) return `${x.label}: never`;
      const some = got.length < r.figures.length ? `, in ${got.length} of ${r.figures.length}` : "";
      return `${x.label}: ${fmt(st.median, st.medianCensored)} (${fmt(st.min, st.minCensored)}-${fmt(st.max, st.maxCensored)})${some}`;
    })
    .join("; ");
}

export function vipTable(rows: VipRow[]): string {
  const lines = [
    "| scenario | profile | failover (s) median | min | max | failed requests (%) median | min | max | VIP moves median | min | max | extra: median (min-max) | tries |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const timed = r.figures.filter((f) => f.failoverMs !== undefined);
    const fo = stat(timed.map((f) => ({ v: f.failoverMs!, c: f.failoverCensored })));
    const fp = stat(r.figures.map((f) => ({ v: f.failedPct })));
    const mv = stat(r.figures.map((f) => ({ v: f.moves })));
    const foCells = three(fo, sec);
    if (fo && timed.length < r.figures.length) foCells[0] += ` (${timed.length} of ${r.figures.length})`;
    lines.push(
      `| ${r.scenario.title} | ${r.profile} | ${foCells.join(" | ")} | ${three(fp, (v) => v.toFixed(1)).join(" | ")} | ${three(mv, (v) => String(Math.round(v * 10) / 10)).join(" | ")} | ${extras(r)} | ${r.figures.length} |`,
    );
  }
  return lines.join("\n");
}

/** What each column means per scenario, printed under the table. */
export function vipLegend(): string {
  return SCENARIOS.map(
    (s) =>
      `- ${s.title}: failover = ${s.failover}; failed = ${s.window}; VIP moves = a host takes the VIP in that window.`,
  ).join("\n");
}
