/**
 * How fast a large topology evaluates under Pulumi's runtime (mocks, nothing deployed): the bare-metal
 * stack (VIP + HAProxy + HaControlPlane) at several sizes, side by side, each try in a fresh process
 * (the same measurement as the unit test "evaluates a large topology", which prints it). Needs no root.
 *
 *   npm run bench -- topology [--tries 5]
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Row } from "./stats";

const SIZES: Array<[number, number]> = [
  [3, 3],
  [7, 100],
];
const repo = path.resolve(__dirname, "..", "..");
const LINE =
  /topology (\d+)\+(\d+): (\d+) resources; program (\d+) ms, all registered (\d+) ms; heap (\d+) -> peak (\d+) MB, peak rss (\d+) MB/;

export async function benchTopology(tries: number, log: (l: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [m, w] of SIZES) {
    const program: number[] = [];
    const registered: number[] = [];
    const rss: number[] = [];
    let resources = 0;
    for (let i = 0; i < tries; i++) {
      const r = spawnSync(
        process.execPath,
        ["node_modules/mocha/bin/mocha.js", "tests/unit/stacks-bare-metal.test.ts", "-g", "topology"],
        {
          cwd: repo,
          encoding: "utf8",
          env: { ...process.env, HAKUBE_TOPOLOGY: `${m},${w}` },
          timeout: 300_000,
        },
      );
      const hit = LINE.exec(r.stdout);
      if (r.status !== 0 || !hit)
        throw new Error(`topology ${m}+${w} failed: ${r.stdout.slice(-1500)}${r.stderr.slice(-1500)}`);
      resources = Number(hit[3]);
      program.push(Number(hit[4]));
      registered.push(Number(hit[5]));
      rss.push(Number(hit[8]));
      log(`  ${m} masters + ${w} workers: ${hit[0]}`);
    }
    const profile = `${m} masters + ${w} workers (${resources} resources)`;
    rows.push({ metric: "program evaluated (constructors)", profile, samples: program, unit: "ms" });
    rows.push({ metric: "every resource registered", profile, samples: registered, unit: "ms" });
    rows.push({ metric: "peak RSS of the process", profile, samples: rss, unit: "MB" });
  }
  const metrics = [...new Set(rows.map((r) => r.metric))];
  return metrics.flatMap((metric) => rows.filter((r) => r.metric === metric));
}
