/**
 * `npm run lab`: the main job. Makes the lab hosts and deploys the lab stack to them with the lab runner.
 *
 *   npm run lab [-- up] [--members N]   create or update (idempotent; a second run changes nothing)
 *   npm run lab -- status [--json]      hosts, etcd members, leader, health, how to connect
 *   npm run lab -- down                 remove every host, mount, link and process the lab made
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { clientFiles, clusterCaPath, deploy, runnerStatePath } from "./deploy";
import { endpointStatus } from "./etcdctl";
import { destroyLab, exec, Lab, loadLab, removeHost } from "./hosts";
import { readState } from "./runner";

const DEFAULT_LAB = "lab";
const DEFAULT_MEMBERS = 3;
const repo = path.resolve(__dirname, "..");

interface CliArgs {
  command: "up" | "status" | "down";
  members?: number;
  json: boolean;
  /** The lab's name: tests use their own so they never touch the main lab. */
  lab: string;
  subnetIndex?: number;
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { command: "up", json: false, lab: DEFAULT_LAB };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "up" || a === "status" || a === "down") args.command = a;
    else if (a === "--json") args.json = true;
    else if (a === "--lab") args.lab = argv[++i] ?? "";
    else if (a === "--subnet") args.subnetIndex = Number(argv[++i]);
    else if (a === "--members" || a.startsWith("--members=")) {
      const v = a.includes("=") ? a.split("=")[1] : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 9)
        throw new UsageError(`--members must be a whole number from 1 to 9, got ${JSON.stringify(v)}`);
      args.members = n;
    } else throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
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

/** The member count of the last deployment, so a plain `npm run lab` keeps what `--members` chose. */
function previousMembers(lab: string): number | undefined {
  const state = readState(runnerStatePath(lab));
  const members = state?.outputs?.etcdMembers;
  return Array.isArray(members) ? members.length : undefined;
}

async function up(args: CliArgs): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error("npm run lab must run as root: it makes network bridges, mounts and containers");
  const start = Date.now();
  const log = progress(start);
  log("checking this machine's packages");
  installDependencies();
  const members = args.members ?? previousMembers(args.lab) ?? DEFAULT_MEMBERS;
  log(`deploying the lab stack: etcd on ${members} host(s)`);
  const result = await deploy({ lab: args.lab, members, subnetIndex: args.subnetIndex, log });
  for (const extra of result.lab.hosts.filter((h) => Number(h.name.slice(1)) > members)) {
    log(`removing host ${extra.name}: no longer an etcd member`);
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

async function collectStatus(lab: Lab) {
  const state = readState(runnerStatePath(lab));
  const endpoints = (state?.outputs?.etcdEndpoints as string[] | undefined) ?? [];
  const files = clientFiles(lab);
  const haveFiles = fs.existsSync(files.key);
  const etcd = haveFiles && endpoints.length > 0 ? await endpointStatus(files, endpoints) : [];
  const nameOf = (endpoint: string) =>
    lab.hosts.find((h) => endpoint.includes(`//${h.address}:`))?.name ?? endpoint;
  const api = state?.outputs?.apiEndpoint ? await apiStatus(lab, String(state.outputs.apiEndpoint)) : null;
  return {
    lab: lab.name,
    subnet: lab.subnet,
    bridge: lab.bridge,
    sshKey: lab.privateKeyPath,
    hosts: lab.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      running: h.running,
      linkDown: h.linkDown,
    })),
    api,
    etcd: {
      endpoints,
      members: etcd.map((e) => ({ name: nameOf(e.endpoint), ...e })),
      leader: etcd.find((e) => e.leader) ? nameOf(etcd.find((e) => e.leader)!.endpoint) : null,
      healthy: etcd.length > 0 && etcd.every((e) => e.healthy),
      ca: files.ca,
      cert: files.cert,
      key: files.key,
    },
  };
}

/** Who holds the VIP, and what each master's HAProxy thinks of each backend (from its loopback stats page). */
async function apiStatus(lab: Lab, endpoint: string) {
  const vip = endpoint.replace(/:\d+$/, "");
  const running = lab.hosts.filter((h) => h.running);
  const perHost = await Promise.all(
    running.map(async (h) => {
      const r = await exec(
        lab,
        h.name,
        "ip -o -4 address show dev host0; echo ---; curl -s --max-time 2 'http://127.0.0.1:8404/stats;csv' || true",
        { timeoutMs: 5000 },
      );
      const [addrs, csv = ""] = r.stdout.split("\n---\n");
      const backends: Record<string, string> = {};
      for (const line of csv.split("\n")) {
        const f = line.split(",");
        if (f[0] === "kube-apiserver" && f[1] !== "FRONTEND" && f[1] !== "BACKEND" && f[17])
          backends[f[1]] = f[17];
      }
      return {
        host: h.name,
        holdsVip: addrs.includes(` ${vip}/`),
        haproxy: csv.includes("kube-apiserver") ? backends : null,
      };
    }),
  );
  return {
    endpoint,
    vip,
    caCert: clusterCaPath(lab),
    holders: perHost.filter((p) => p.holdsVip).map((p) => p.host),
    haproxy: Object.fromEntries(perHost.map((p) => [p.host, p.haproxy])),
  };
}

async function status(args: CliArgs): Promise<void> {
  const lab = await loadLab(args.lab);
  if (!lab) {
    if (args.json) console.log(JSON.stringify({ lab: args.lab, exists: false }));
    else console.log(`No lab yet: run npm run lab`);
    return;
  }
  const st = await collectStatus(lab);
  if (args.json) {
    console.log(JSON.stringify({ exists: true, ...st }, null, 2));
    return;
  }
  const lines = [`lab "${st.lab}": ${st.hosts.length} host(s) on ${st.subnet} (bridge ${st.bridge})`];
  for (const h of st.hosts)
    lines.push(
      `  ${h.name}  ${h.address}  ${h.running ? (h.linkDown ? "running, link down" : "running") : "powered off"}`,
    );
  const e = st.etcd;
  lines.push(
    e.members.length === 0
      ? "etcd: not deployed"
      : `etcd: ${e.members.length} member(s), leader ${e.leader ?? "none"}, ${e.healthy ? "all healthy" : "NOT all healthy"}`,
  );
  for (const m of e.members) {
    lines.push(
      `  ${m.name}  ${m.endpoint}  ${m.healthy ? "healthy" : "unhealthy"}${m.leader ? "  leader" : ""}${m.learner ? "  learner" : ""}${m.version ? `  etcd ${m.version}, db ${m.dbSize}` : `  (${m.error})`}`,
    );
  }
  if (st.api) {
    const a = st.api;
    lines.push(
      `api: ${a.endpoint} (VIP held by ${a.holders.length === 0 ? "nobody" : a.holders.join(" and ")}; kube-apiserver stand-in behind HAProxy on every master)`,
    );
    for (const [host, backends] of Object.entries(a.haproxy) as Array<
      [string, Record<string, string> | null]
    >) {
      lines.push(
        `  haproxy on ${host}: ${
          backends === null
            ? "not answering"
            : Object.entries(backends)
                .map(([b, st]) => `${b} ${st}`)
                .join(", ")
        }`,
      );
    }
  }

  lines.push(
    "kubernetes: not deployed: kubeadm, kubelet and the control-plane images cannot be downloaded in this workplace, so the API endpoint serves a stand-in (HaControlPlane is proven with renderers and mocks only)",
  );
  if (e.endpoints.length > 0) {
    lines.push(
      "connect:",
      `  ETCDCTL_API=3 etcdctl --endpoints=${e.endpoints.join(",")} --cacert=${rel(e.ca)} --cert=${rel(e.cert)} --key=${rel(e.key)} member list`,
      `  ssh -i ${rel(st.sshKey)} root@${st.hosts[0]?.address}`,
      ...(st.api ? [`  curl --cacert ${rel(st.api.caCert)} https://${st.api.endpoint}/readyz`] : []),
    );
  }
  console.log(lines.join("\n"));
}

function rel(p: string): string {
  return path.relative(process.cwd(), p) || p;
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
    console.error("usage: npm run lab [-- up] [--members N] | status [--json] | down");
  process.exit(1);
});
