/**
 * `npm run bench [-- <suite>] [--tries N]`: benchmarks on the lab's real hosts (root). Prints medians, min
 * and max over N fresh tries per profile, side by side, as a Markdown table for BENCHMARKS.md.
 */
import { benchEtcd } from "./etcd";
import { Conditions, raiseClientPriority } from "./conditions";
import { table } from "./stats";

const SUITES: Record<string, (tries: number, log: (l: string) => void) => Promise<import("./stats").Row[]>> =
  {
    etcd: benchEtcd,
    "etcd-day2": (tries, log) => import("./etcdDay2").then((m) => m.benchEtcdDay2(tries, log)),
    vip: (tries, log) => import("./vip").then((m) => m.benchVip(tries, log)),
    cluster: (tries, log) => import("./cluster").then((m) => m.benchCluster(tries, log)),
    topology: (tries, log) => import("./topology").then((m) => m.benchTopology(tries, log)),
    install: (tries, log) => import("./install").then((m) => m.benchInstall(tries, log)),
  };

/** Suites that need no lab hosts (and so no root). */
const NO_ROOT = new Set(["topology", "install"]);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let tries = 5;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--tries") tries = Number(argv[++i]);
    else names.push(argv[i]);
  }
  if (!Number.isInteger(tries) || tries < 1 || tries > 50)
    throw new Error(`--tries must be 1-50, got ${tries}`);
  const chosen = names.length > 0 ? names : Object.keys(SUITES);
  for (const n of chosen)
    if (!SUITES[n]) throw new Error(`unknown suite ${n}; have ${Object.keys(SUITES).join(", ")}`);
  if (process.getuid?.() !== 0 && chosen.some((n) => !NO_ROOT.has(n))) {
    throw new Error("the benchmarks run on lab hosts: run as root");
  }
  const log = (l: string) => process.stderr.write(`${l}\n`);
  if (chosen.some((n) => !NO_ROOT.has(n))) raiseClientPriority(log);
  for (const n of chosen) {
    log(`suite ${n}: ${tries} tries per profile`);
    const conditions = new Conditions();
    const rows = await SUITES[n](tries, log);
    // A suite with a wider table of its own (vip) prints it and returns no rows.
    if (rows.length > 0)
      console.log(
        `\n### ${n} (${tries} tries per profile, ${new Date().toISOString().slice(0, 10)})\n\n${table(rows)}\n`,
      );
    if (!NO_ROOT.has(n)) console.log(`${conditions.stop()}\n`);
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
