/**
 * Deploy the lab stack (stacks/lab) to a lab: make sure the hosts exist, run the program with the lab
 * runner, and write the etcd client credentials where people and tests can use them. Used by
 * `npm run lab` and by the lab tests (with their own lab name and subnet).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createLab, Lab, loadLab, Log } from "./hosts";
import { up, RunSummary } from "./runner";
import { isSecretWrapper } from "./runner/values";
import { labDir } from "./hosts/paths";
import { labStack, LabStackArgs } from "../stacks/lab/program";

export interface DeployOptions {
  /** The lab's name (`.lab/<name>/`). */
  lab: string;
  /** etcd members: the first `members` hosts, m1..mN. */
  members?: number;
  /** Or exactly these hosts, by name and in order (for replacement tests). */
  memberNames?: string[];
  /** 10.77.<subnetIndex>.0/24; a new lab takes it, an existing lab keeps its own. */
  subnetIndex?: number;
  /**
   * Boot missing or powered-off hosts first (the default). Fault tests pass false so that a host they
   * powered off stays off while the program runs.
   */
  ensureHosts?: boolean;
  /**
   * Also deploy the API endpoint: the VIP (.10 of the lab subnet) with keepalived and HAProxy on the
   * masters (the etcd members) in front of a kube-apiserver stand-in. @default true
   */
  api?: boolean;
  /** KeepalivedVip timing and HAProxy check overrides (benchmarks compare profiles). */
  vipTiming?: LabStackArgs["vipTiming"];
  haproxyCheck?: LabStackArgs["haproxyCheck"];
  /** etcd raft timings (benchmarks compare profiles). */
  etcdHeartbeatIntervalMs?: number;
  etcdElectionTimeoutMs?: number;
  log?: Log;
}

/** Where the client credentials are written (mode 0600 for the key). */
export interface ClientFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface DeployResult {
  lab: Lab;
  summary: RunSummary;
  endpoints: string[];
  members: string[];
  files: ClientFiles;
  /** The PEMs themselves, for tests. */
  pem: { ca: string; cert: string; key: string };
  /** The API endpoint, when deployed. */
  api?: { vip: string; endpoint: string; caCertPem: string; certSans: string[] };
}

/** Where the cluster CA (which the API endpoint's certificates chain to) is written. */
export function clusterCaPath(lab: Lab): string {
  return path.join(lab.dir, "cluster-ca.crt");
}

/** The lab's virtual IP: .10 of its subnet. */
export function vipOf(lab: Lab): string {
  return lab.gateway.replace(/\.1$/, ".10");
}

export function runnerStatePath(lab: Lab | string): string {
  const dir = typeof lab === "string" ? labDir(lab) : lab.dir;
  return path.join(dir, "stack-state.json");
}

export function clientFiles(lab: Lab): ClientFiles {
  const dir = path.join(lab.dir, "etcd-client");
  return {
    ca: path.join(dir, "ca.crt"),
    cert: path.join(dir, "client.crt"),
    key: path.join(dir, "client.key"),
  };
}

/** A stack output as a plain value (the runner keeps secrets wrapped). */
function plain(v: unknown): unknown {
  return isSecretWrapper(v) ? plain(v.value) : v;
}

async function existingLab(name: string): Promise<Lab> {
  const lab = await loadLab(name);
  if (!lab) throw new Error(`lab ${name} does not exist`);
  return lab;
}

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const log = opts.log ?? (() => undefined);
  const memberNames = opts.memberNames ?? Array.from({ length: opts.members ?? 3 }, (_, i) => `m${i + 1}`);
  const hostCount = Math.max(...memberNames.map((n) => Number(n.replace(/^m/, ""))));
  const lab =
    opts.ensureHosts === false
      ? await existingLab(opts.lab)
      : await createLab({ name: opts.lab, hosts: hostCount, subnetIndex: opts.subnetIndex, log });
  const privateKey = fs.readFileSync(lab.privateKeyPath, "utf8");
  const summary = await up(
    () =>
      labStack({
        hosts: lab.hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey })),
        privateKey,
        etcdMembers: memberNames,
        etcdRelease: lab.etcdRelease,
        etcdHeartbeatIntervalMs: opts.etcdHeartbeatIntervalMs,
        etcdElectionTimeoutMs: opts.etcdElectionTimeoutMs,
        apiVip: opts.api === false ? undefined : `${vipOf(lab)}/24`,
        vipTiming: opts.vipTiming,
        haproxyCheck: opts.haproxyCheck,
      }),
    { statePath: runnerStatePath(lab), project: "hakube", stack: opts.lab, log },
  );
  const out = (k: string) => plain(summary.outputs[k]);
  const pem = {
    ca: String(out("etcdCaCertPem")),
    cert: String(out("etcdClientCertPem")),
    key: String(out("etcdClientKeyPem")),
  };
  const files = clientFiles(lab);
  fs.mkdirSync(path.dirname(files.ca), { recursive: true, mode: 0o700 });
  fs.writeFileSync(files.ca, pem.ca, { mode: 0o644 });
  fs.writeFileSync(files.cert, pem.cert, { mode: 0o644 });
  fs.writeFileSync(files.key, pem.key, { mode: 0o600 });
  fs.chmodSync(files.key, 0o600);
  const clusterCa = out("clusterCaCertPem");
  if (clusterCa !== undefined) fs.writeFileSync(clusterCaPath(lab), String(clusterCa), { mode: 0o644 });
  return {
    lab,
    summary,
    endpoints: out("etcdEndpoints") as string[],
    members: out("etcdMembers") as string[],
    files,
    pem,
    api:
      out("apiEndpoint") === undefined
        ? undefined
        : {
            vip: vipOf(lab),
            endpoint: String(out("apiEndpoint")),
            caCertPem: String(out("clusterCaCertPem")),
            certSans: out("apiCertSans") as string[],
          },
  };
}
