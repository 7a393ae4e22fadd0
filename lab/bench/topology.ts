/**
 * How fast a large topology evaluates under Pulumi's runtime (mocks, nothing deployed): the bare-metal
 * stack (VIP + HAProxy + HaControlPlane) at several sizes, side by side, each try in a fresh Node.js
 * process (topology-run.ts, which measures and prints its figures as JSON). Needs no root.
 *
 *   npm run bench -- topology [--tries 5]
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Row } from "./stats";
import type { TopologyFigures } from "./topology-run";

const SIZES: Array<[number, number]> = [
  [3, 3],
  [7, 100],
];
const repo = path.resolve(__dirname, "..", "..");

function oneTry(masters: number, workers: number): TopologyFigures {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "topology-run.ts"), String(masters), String(workers)],
    { cwd: repo, encoding: "utf8", timeout: 300_000 },
  );
  if (r.status !== 0) throw new Error(`topology ${masters}+${workers} failed: ${r.stderr.slice(-1500)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as TopologyFigures;
}

export async function benchTopology(tries: number, log: (l: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [m, w] of SIZES) {
    const figs: TopologyFigures[] = [];
    for (let i = 0; i < tries; i++) {
      const f = oneTry(m, w);
      figs.push(f);
      log(`  ${m} masters + ${w} workers: ${JSON.stringify(f)}`);
    }
    const profile = `${m} masters + ${w} workers (${figs[0].resources} resources)`;
    const of = (k: keyof TopologyFigures) => figs.map((f) => f[k]);
    rows.push({ metric: "program evaluated (constructors)", profile, samples: of("programMs"), unit: "ms" });
    rows.push({ metric: "every resource registered", profile, samples: of("registeredMs"), unit: "ms" });
    rows.push({ metric: "peak RSS of the process", profile, samples: of("peakRssMb"), unit: "MB" });
  }
  const metrics = [...new Set(rows.map((r) => r.metric))];
  return metrics.flatMap((metric) => rows.filter((r) => r.metric === metric));
}
