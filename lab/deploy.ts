/**
 * Deploy the lab stack (lab/stack) to a lab: make sure the hosts exist, run the program with the lab
 * runner, and write what people and tests use (the kubeconfig HaControlPlane outputs, the etcd client
 * credentials, the cluster CA) into the lab's folder. Used by `npm run lab`, the lab tests and the
 * benchmarks (each with its own lab name and subnet).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createLab, Lab, loadLab, Log } from "./hosts";
import { readState, up, RunSummary } from "./runner";
import { isSecretWrapper } from "./runner/values";
import { labDir } from "./hosts/paths";
import { labStack, LabStackArgs } from "./stack/program";

export interface DeployOptions {
  /** The lab's name (`.lab/<name>/`). */
  lab: string;
  /** Control-plane hosts (and etcd members): the first `masters` hosts, m1..mN. @default 3 */
  masters?: number;
  /** Or exactly these hosts, by name and in order (for replacement tests). */
  masterNames?: string[];
  /** Workers: the hosts after the masters. @default 1 with Kubernetes, 0 without */
  workers?: number;
  /** 10.77.<subnetIndex>.0/24; a new lab takes it, an existing lab keeps its own. */
  subnetIndex?: number;
  /**
   * Boot missing or powered-off hosts first (the default). Fault tests pass false so that a host they
   * powered off stays off while the program runs.
   */
  ensureHosts?: boolean;
  /**
   * Deploy Kubernetes: the VIP (.10 of the lab subnet) with keepalived and HAProxy on the masters, and
   * HaControlPlane with kubeadm. false: etcd only. @default true
   */
  kubernetes?: boolean;
  /** Kubernetes: "external" (an EtcdCluster on the masters) or "stacked" (kubeadm's). @default "external" */
  etcd?: "external" | "stacked";
  /** KeepalivedVip timing and HAProxy check overrides (benchmarks compare profiles). */
  vipTiming?: LabStackArgs["vipTiming"];
  haproxyCheck?: LabStackArgs["haproxyCheck"];
  /** Leader election profile of the controller manager and scheduler (benchmarks compare them). */
  leaderElection?: LabStackArgs["leaderElection"];
  /** External etcd: each API server uses its own member. @default true */
  etcdColocated?: boolean;
  /** etcd raft timings (benchmarks compare profiles). */
  etcdHeartbeatIntervalMs?: number;
  etcdElectionTimeoutMs?: number;
  etcdTimingProfile?: LabStackArgs["etcdTimingProfile"];
  /** EtcdCluster's scheduled snapshots and restore (the etcd day-2 tests). */
  etcdBackup?: LabStackArgs["etcdBackup"];
  etcdRestoreFrom?: LabStackArgs["etcdRestoreFrom"];
  etcdRecoverQuorum?: LabStackArgs["etcdRecoverQuorum"];
  etcdDefrag?: LabStackArgs["etcdDefrag"];
  /** Another etcd release than the lab's own (the upgrade test): published on the lab's release server. */
  etcdRelease?: LabStackArgs["etcdRelease"];
  log?: Log;
}

/** Where the etcd client credentials are written (mode 0600 for the key). */
export interface ClientFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface DeployResult {
  lab: Lab;
  summary: RunSummary;
  masters: string[];
  workers: string[];
  /** External etcd only (etcd-only labs included). */
  etcd?: {
    endpoints: string[];
    members: string[];
    files: ClientFiles;
    pem: { ca: string; cert: string; key: string };
  };
  /** Kubernetes only. */
  api?: {
    vip: string;
    endpoint: string;
    caCertPem: string;
    /** The kubeconfig HaControlPlane output, written to `kubeconfigPath` (0600). */
    kubeconfig: string;
    kubeconfigPath: string;
    etcdTopology: "external" | "stacked";
  };
}

/** Where the cluster CA (which the API endpoint's certificates chain to) is written. */
export function clusterCaPath(lab: Lab): string {
  return path.join(lab.dir, "cluster-ca.crt");
}

/** Where the kubeconfig HaControlPlane outputs is written (mode 0600). */
export function kubeconfigPath(lab: Lab | string): string {
  return path.join(typeof lab === "string" ? labDir(lab) : lab.dir, "kubeconfig");
}

/** The lab's virtual IP: .10 of its subnet. */
export function vipOf(lab: Lab): string {
  return lab.gateway.replace(/\.1$/, ".10");
}

export function runnerStatePath(lab: Lab | string): string {
  const dir = typeof lab === "string" ? labDir(lab) : lab.dir;
  return path.join(dir, "stack-state.json");
}

/** The stdout of one of the lab stack's command steps (`etcd-m1-upgrade`) in the lab's last run, or "". */
export function stepStdout(lab: Lab | string, name: string): string {
  const r = Object.values(readState(runnerStatePath(lab))?.resources ?? {}).find((x) => x.name === name);
  return String(plain(r?.outputs.stdout) ?? "");
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

function writePrivate(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const log = opts.log ?? (() => undefined);
  const kubernetes = opts.kubernetes ?? true;
  const masterNames = opts.masterNames ?? Array.from({ length: opts.masters ?? 3 }, (_, i) => `m${i + 1}`);
  const last = Math.max(...masterNames.map((n) => Number(n.replace(/^m/, ""))));
  const workerNames = Array.from(
    { length: opts.workers ?? (kubernetes ? 1 : 0) },
    (_, i) => `m${last + i + 1}`,
  );
  const hostCount = last + workerNames.length;
  const lab =
    opts.ensureHosts === false
      ? await existingLab(opts.lab)
      : await createLab({ name: opts.lab, hosts: hostCount, subnetIndex: opts.subnetIndex, kubernetes, log });
  if (kubernetes && !lab.kubernetes)
    throw new Error(`lab ${lab.name} serves no Kubernetes: create it with kubernetes`);
  const privateKey = fs.readFileSync(lab.privateKeyPath, "utf8");
  const summary = await up(
    () =>
      labStack({
        hosts: lab.hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey })),
        privateKey,
        masters: masterNames,
        workers: workerNames,
        etcdRelease: opts.etcdRelease ?? lab.etcdRelease,
        etcdHeartbeatIntervalMs: opts.etcdHeartbeatIntervalMs,
        etcdElectionTimeoutMs: opts.etcdElectionTimeoutMs,
        etcdTimingProfile: opts.etcdTimingProfile,
        kubernetes: kubernetes ? lab.kubernetes : undefined,
        stackedEtcd: opts.etcd === "stacked",
        apiVip: kubernetes ? `${vipOf(lab)}/24` : undefined,
        vipTiming: opts.vipTiming,
        haproxyCheck: opts.haproxyCheck,
        leaderElection: opts.leaderElection,
        etcdColocated: opts.etcdColocated,
        etcdBackup: opts.etcdBackup,
        etcdRestoreFrom: opts.etcdRestoreFrom,
        etcdRecoverQuorum: opts.etcdRecoverQuorum,
        etcdDefrag: opts.etcdDefrag,
      }),
    { statePath: runnerStatePath(lab), project: "hakube", stack: opts.lab, log },
  );
  const out = (k: string) => plain(summary.outputs[k]);
  const result: DeployResult = { lab, summary, masters: masterNames, workers: workerNames };
  if (out("etcdEndpoints") !== undefined) {
    const pem = {
      ca: String(out("etcdCaCertPem")),
      cert: String(out("etcdClientCertPem")),
      key: String(out("etcdClientKeyPem")),
    };
    const files = clientFiles(lab);
    fs.mkdirSync(path.dirname(files.ca), { recursive: true, mode: 0o700 });
    fs.writeFileSync(files.ca, pem.ca, { mode: 0o644 });
    fs.writeFileSync(files.cert, pem.cert, { mode: 0o644 });
    writePrivate(files.key, pem.key);
    result.etcd = {
      endpoints: out("etcdEndpoints") as string[],
      members: out("etcdMembers") as string[],
      files,
      pem,
    };
  }
  if (out("apiEndpoint") !== undefined) {
    const caCertPem = String(out("clusterCaCertPem"));
    fs.writeFileSync(clusterCaPath(lab), caCertPem, { mode: 0o644 });
    const kubeconfig = String(out("kubeconfig"));
    writePrivate(kubeconfigPath(lab), kubeconfig);
    result.api = {
      vip: vipOf(lab),
      endpoint: String(out("apiEndpoint")),
      caCertPem,
      kubeconfig,
      kubeconfigPath: kubeconfigPath(lab),
      etcdTopology: out("etcdTopology") === "stacked" ? "stacked" : "external",
    };
  }
  return result;
}

/** What an etcd-only deployment gives its callers (the etcd tests and benchmarks). */
export interface EtcdDeployResult {
  lab: Lab;
  summary: RunSummary;
  endpoints: string[];
  members: string[];
  files: ClientFiles;
  pem: { ca: string; cert: string; key: string };
}

/** etcd only (EtcdCluster on m1..mN, or on `memberNames`): no VIP, no Kubernetes. */
export async function deployEtcd(
  opts: Omit<
    DeployOptions,
    "kubernetes" | "masters" | "masterNames" | "workers" | "etcd" | "vipTiming" | "haproxyCheck"
  > & {
    members?: number;
    memberNames?: string[];
  },
): Promise<EtcdDeployResult> {
  const { members, memberNames, ...rest } = opts;
  const r = await deploy({
    ...rest,
    masters: members,
    masterNames: memberNames,
    workers: 0,
    kubernetes: false,
  });
  if (!r.etcd) throw new Error("deployEtcd: the stack gave no etcd outputs");
  return { lab: r.lab, summary: r.summary, ...r.etcd };
}
