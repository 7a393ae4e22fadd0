/**
 * `npm run lab`: the main job. Makes the lab hosts and deploys the lab stack to them with the lab runner:
 * etcd (EtcdCluster), the VIP (KeepalivedVip) and HAProxy (LoadBalancer) on 3 masters, and Kubernetes
 * (HaControlPlane with kubeadm) on them plus one worker.
 *
 *   npm run lab [-- up] [--masters N] [--workers N] [--etcd external|stacked]
 *                                        create or update (idempotent; a second run changes nothing)
 *   npm run lab -- status [--json]       hosts, nodes, API endpoint and VIP holder, HAProxy, leaders, etcd
 *   npm run lab -- down                  remove every host, mount, link and process the lab made
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { deploy, runnerStatePath } from "./deploy";
import { destroyLab, loadLab, removeHost } from "./hosts";
import { readState } from "./runner";
import { collectStatus, formatStatus } from "./status";
import { LAB_NAMES } from "./hosts/subnets";

const DEFAULT_LAB = LAB_NAMES.main;
const DEFAULTS = { masters: 3, workers: 1, etcd: "external" as const };
const repo = path.resolve(__dirname, "..");

interface CliArgs {
  command: "up" | "status" | "down";
  masters?: number;
  workers?: number;
  etcd?: "external" | "stacked";
  json: boolean;
  /** The lab's name: tests use their own so they never touch the main lab. */
  lab: string;
  subnetIndex?: number;
}

function count(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { command: "up", json: false, lab: DEFAULT_LAB };
  for (let i = 0; i < argv.length; i++) {
    const [a, inline] = argv[i].split("=", 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (a === "up" || a === "status" || a === "down") args.command = a;
    else if (a === "--json") args.json = true;
    else if (a === "--lab") args.lab = value() ?? "";
    else if (a === "--subnet") args.subnetIndex = Number(value());
    else if (a === "--masters") args.masters = count(a, value(), 1, 7);
    else if (a === "--workers") args.workers = count(a, value(), 0, 4);
    else if (a === "--etcd") {
      const v = value();
      if (v !== "external" && v !== "stacked")
        throw new UsageError(`--etcd must be external or stacked, got ${JSON.stringify(v)}`);
      args.etcd = v;
    } else throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}`);
  }
  return args;
}

class UsageError extends Error {}

function progress(start: number) {
  return (line: string) =>
    process.stderr.write(`[${((Date.now() - start) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
}

function installDependencies(): void {
  const r = spawnSync("bash", [path.join(repo, "scripts", "install-deps.sh")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0)
    throw new Error("installing the Debian packages failed (scripts/install-deps.sh); see above");
}

/** The shape of the last deployment, so a plain `npm run lab` keeps what the flags chose. */
function previous(lab: string): { masters?: number; workers?: number; etcd?: "external" | "stacked" } {
  const o = readState(runnerStatePath(lab))?.outputs;
  if (!o) return {};
  const list = (v: unknown) => (Array.isArray(v) ? v.length : undefined);
  return {
    masters: list(o.masters) ?? list(o.etcdMembers),
    workers: list(o.workers),
    etcd: o.etcdTopology === "stacked" ? "stacked" : o.etcdTopology === "external" ? "external" : undefined,
  };
}

async function up(args: CliArgs): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error("npm run lab must run as root: it makes network bridges, mounts and containers");
  const start = Date.now();
  const log = progress(start);
  log("checking this machine's packages");
  installDependencies();
  const before = previous(args.lab);
  if (args.etcd && before.etcd && args.etcd !== before.etcd) {
    throw new UsageError(
      `lab "${args.lab}" runs ${before.etcd} etcd; a cluster cannot change its etcd topology in place: run npm run lab -- down first`,
    );
  }
  const masters = args.masters ?? before.masters ?? DEFAULTS.masters;
  const workers = args.workers ?? before.workers ?? DEFAULTS.workers;
  const etcd = args.etcd ?? before.etcd ?? DEFAULTS.etcd;
  log(`deploying the lab stack: ${masters} master(s), ${workers} worker(s), ${etcd} etcd`);
  const result = await deploy({ lab: args.lab, masters, workers, etcd, subnetIndex: args.subnetIndex, log });
  for (const extra of result.lab.hosts.filter((h) => Number(h.name.slice(1)) > masters + workers)) {
    log(`removing host ${extra.name}: no longer part of the lab stack`);
    await removeHost(result.lab, extra.name, log);
  }
  const s = result.summary;
  const changed = s.created.length + s.updated.length + s.replaced.length + s.deleted.length;
  console.log(
    changed === 0 && s.commandsRun === 0
      ? `No changes: the lab already matches the program (${s.unchanged.length} resources unchanged, no command run).`
      : `Applied in ${((Date.now() - start) / 1000).toFixed(1)} s: ${s.created.length} created, ${s.updated.length} updated, ${s.replaced.length} replaced, ${s.deleted.length} deleted, ${s.commandsRun} command(s) run.`,
  );
  await status({ ...args, json: false });
}

async function status(args: CliArgs): Promise<void> {
  const lab = await loadLab(args.lab);
  if (!lab) {
    if (args.json) console.log(JSON.stringify({ lab: args.lab, exists: false }));
    else console.log(`No lab yet: run npm run lab`);
    return;
  }
  const st = await collectStatus(lab);
  console.log(args.json ? JSON.stringify({ exists: true, ...st }, null, 2) : formatStatus(st));
}

async function down(args: CliArgs): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("npm run lab -- down must run as root");
  const log = progress(Date.now());
  await destroyLab(args.lab, log);
  console.log(`Lab "${args.lab}" removed (the Debian rootfs cache in .lab/cache is kept).`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.command === "up") await up(args);
  else if (args.command === "status") await status(args);
  else await down(args);
}

main().catch((err: Error) => {
  console.error(`lab: ${err instanceof UsageError ? "" : "failed: "}${err.message}`);
  if (err instanceof UsageError)
    console.error(
      "usage: npm run lab [-- up] [--masters N] [--workers N] [--etcd external|stacked] | status [--json] | down",
    );
  process.exit(1);
});
