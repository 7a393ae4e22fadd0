/**
 * What `npm run lab -- status` shows: the hosts; the Kubernetes nodes and their readiness, the API endpoint
 * and who holds the VIP, each HAProxy's view of the API servers, the controller-manager and scheduler
 * leaders; the etcd members (external: with the EtcdCluster client certificate; stacked: etcdctl inside
 * kubeadm's etcd pod); and how to connect.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { clientFiles, clusterCaPath, kubeconfigPath, runnerStatePath } from "./deploy";
import { endpointStatus, EndpointStatus } from "./etcdctl";
import { exec, Lab } from "./hosts";
import { kubectl, kubectlPath, leaseHolder, nodeStatus, NodeStatus } from "./kubectl";
import { readState } from "./runner";
import { describeSnapshots, etcdAlarms, snapshotStatus, SnapshotStatus } from "./snapshots";

export type LabStatus = Awaited<ReturnType<typeof collectStatus>>;

export async function collectStatus(lab: Lab) {
  const outputs = readState(runnerStatePath(lab))?.outputs ?? {};
  const kubeconfig = kubeconfigPath(lab);
  const hasKubernetes = outputs.apiEndpoint !== undefined && fs.existsSync(kubeconfig);
  const [api, kubernetes, etcd] = await Promise.all([
    outputs.apiEndpoint ? apiStatus(lab, String(outputs.apiEndpoint)) : null,
    hasKubernetes ? kubernetesStatus(kubeconfig) : null,
    etcdStatus(lab, outputs, hasKubernetes ? kubeconfig : undefined),
  ]);
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
    kubernetes: kubernetes && { ...kubernetes, kubeconfig, kubectl: kubectlPath() },
    etcd,
  };
}

async function kubernetesStatus(kubeconfig: string) {
  let nodes: NodeStatus[] = [];
  let error: string | undefined;
  try {
    nodes = await nodeStatus(kubeconfig);
  } catch (e) {
    error = (e as Error).message;
  }
  const [controllerManager, scheduler] = await Promise.all([
    leaseHolder(kubeconfig, "kube-controller-manager"),
    leaseHolder(kubeconfig, "kube-scheduler"),
  ]);
  return { nodes, error, leaders: { controllerManager, scheduler } };
}

async function etcdStatus(lab: Lab, outputs: Record<string, unknown>, kubeconfig: string | undefined) {
  const files = clientFiles(lab);
  const endpoints = (outputs.etcdEndpoints as string[] | undefined) ?? [];
  const nameOf = (endpoint: string) =>
    lab.hosts.find((h) => endpoint.includes(`//${h.address}:`))?.name ?? endpoint;
  let members: EndpointStatus[] = [];
  let topology: "external" | "stacked" | "none" = "none";
  if (endpoints.length > 0 && fs.existsSync(files.key)) {
    topology = "external";
    members = await endpointStatus(files, endpoints);
  } else if (outputs.etcdTopology === "stacked" && kubeconfig) {
    topology = "stacked";
    members = await stackedEtcdStatus(kubeconfig, (outputs.masters as string[] | undefined) ?? []);
  }
  const leader = members.find((m) => m.leader);
  // EtcdCluster's scheduled snapshots: the last good one per member and its age (running hosts only).
  const running = new Set(lab.hosts.filter((h) => h.running).map((h) => h.name));
  const snapshots: SnapshotStatus[] =
    topology === "external"
      ? await Promise.all(
          members
            .map((m) => nameOf(m.endpoint))
            .filter((n) => running.has(n))
            .map((n) => snapshotStatus(lab, n)),
        )
      : [];
  const alarms = topology === "external" ? await etcdAlarms(files, endpoints) : [];
  return {
    snapshots,
    alarms,
    topology,
    endpoints: members.map((m) => m.endpoint),
    members: members.map((m) => ({ name: nameOf(m.endpoint), ...m })),
    leader: leader ? nameOf(leader.endpoint) : null,
    healthy: members.length > 0 && members.every((m) => m.healthy),
    ...(topology === "external" ? { ca: files.ca, cert: files.cert, key: files.key } : {}),
  };
}

/**
 * The checked API server backends' states ("UP", "DOWN 1/2", ...) by name, from HAProxy's `/stats;csv`.
 * Column 20 (bck) marks the fail-open backup entries: unchecked, not a backend's state, so left out.
 */
export function checkedBackendStates(csv: string): Record<string, string> {
  const backends: Record<string, string> = {};
  for (const line of csv.split("\n")) {
    const f = line.split(",");
    if (f[0] === "kube-apiserver" && f[1] !== "FRONTEND" && f[1] !== "BACKEND" && f[17] && f[20] !== "1")
      backends[f[1]] = f[17];
  }
  return backends;
}
/** kubeadm's etcd members, asked by etcdctl inside each master's etcd pod with kubeadm's own client certificate. */
async function stackedEtcdStatus(kubeconfig: string, masters: string[]): Promise<EndpointStatus[]> {
  const pki = "/etc/kubernetes/pki/etcd";
  return Promise.all(
    masters.map(async (m): Promise<EndpointStatus> => {
      const endpoint = `etcd-${m} (stacked)`;
      const r = await kubectl(
        kubeconfig,
        [
          "-n",
          "kube-system",
          "exec",
          `etcd-${m}`,
          "--",
          "etcdctl",
          "--endpoints=https://127.0.0.1:2379",
          `--cacert=${pki}/ca.crt`,
          `--cert=${pki}/healthcheck-client.crt`,
          `--key=${pki}/healthcheck-client.key`,
          "--command-timeout=3s",
          "endpoint",
          "status",
          "-w",
          "simple",
        ],
        { timeoutMs: 10_000 },
      );
      if (r.code !== 0) {
        return {
          endpoint,
          healthy: false,
          leader: false,
          learner: false,
          error: r.stderr.trim().split("\n").pop(),
        };
      }
      const f = r.stdout.trim().split(", ");
      return {
        endpoint,
        healthy: true,
        version: f[2],
        dbSize: f[3],
        leader: f[4] === "true",
        learner: f[5] === "true",
        raftIndex: Number(f[7]),
      };
    }),
  );
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
      return {
        host: h.name,
        holdsVip: addrs.includes(` ${vip}/`),
        haproxy: csv.includes("kube-apiserver") ? checkedBackendStates(csv) : null,
      };
    }),
  );
  return {
    endpoint,
    vip,
    caCert: clusterCaPath(lab),
    holders: perHost.filter((p) => p.holdsVip).map((p) => p.host),
    haproxy: Object.fromEntries(perHost.filter((p) => p.haproxy !== null).map((p) => [p.host, p.haproxy])),
  };
}

/** The status as text for people. */
export function formatStatus(st: LabStatus): string {
  const lines = [`lab "${st.lab}": ${st.hosts.length} host(s) on ${st.subnet} (bridge ${st.bridge})`];
  for (const h of st.hosts) {
    lines.push(
      `  ${h.name}  ${h.address}  ${h.running ? (h.linkDown ? "running, link down" : "running") : "powered off"}`,
    );
  }
  const k = st.kubernetes;
  if (k) {
    const ready = k.nodes.filter((n) => n.ready).length;
    lines.push(`kubernetes: ${k.nodes.length} node(s), ${ready} Ready${k.error ? ` (${k.error})` : ""}`);
    for (const n of k.nodes) {
      lines.push(
        `  ${n.name}  ${n.address}  ${n.ready ? "Ready" : "NotReady"}  ${n.roles.join(",") || "worker"}  ${n.version}  pods ${n.podCidr ?? "-"}`,
      );
    }
    lines.push(
      `  leaders: kube-controller-manager ${k.leaders.controllerManager ?? "none"}, kube-scheduler ${k.leaders.scheduler ?? "none"}`,
    );
  } else {
    lines.push("kubernetes: not deployed");
  }
  if (st.api) {
    const a = st.api;
    lines.push(
      `api: https://${a.endpoint} (VIP held by ${a.holders.length === 0 ? "nobody" : a.holders.join(" and ")}; HAProxy on every master)`,
    );
    for (const [host, backends] of Object.entries(a.haproxy) as Array<[string, Record<string, string>]>) {
      lines.push(
        `  haproxy on ${host}: ${Object.entries(backends)
          .map(([b, s]) => `${b} ${s}`)
          .join(", ")}`,
      );
    }
  }
  const e = st.etcd;
  lines.push(
    e.members.length === 0
      ? "etcd: not deployed"
      : `etcd (${e.topology}): ${e.members.length} member(s), leader ${e.leader ?? "none"}, ${e.healthy ? "all healthy" : "NOT all healthy"}`,
  );
  for (const m of e.members) {
    lines.push(
      `  ${m.name}  ${m.endpoint}  ${m.healthy ? "healthy" : "unhealthy"}${m.leader ? "  leader" : ""}${m.learner ? "  learner" : ""}${m.version ? `  etcd ${m.version}, db ${m.dbSize}` : `  (${m.error})`}`,
    );
    const snap = e.snapshots.find((x) => x.member === m.name);
    if (snap?.scheduled || snap?.error) lines.push(`    ${describeSnapshots(snap)}`);
  }
  for (const a of e.alarms)
    lines.push(
      `  ALARM ${a}${a.includes("NOSPACE") ? " (writes refused: compact, defrag, then etcdctl alarm disarm)" : ""}`,
    );
  lines.push("connect:");
  if (k) lines.push(`  ${rel(k.kubectl)} --kubeconfig=${rel(k.kubeconfig)} get nodes`);
  if (e.topology === "external" && e.ca) {
    lines.push(
      `  ETCDCTL_API=3 etcdctl --endpoints=${e.endpoints.join(",")} --cacert=${rel(e.ca)} --cert=${rel(e.cert!)} --key=${rel(e.key!)} member list`,
    );
  }
  if (st.hosts[0]) lines.push(`  ssh -i ${rel(st.sshKey)} root@${st.hosts[0].address}`);
  return lines.join("\n");
}

function rel(p: string): string {
  return path.relative(process.cwd(), p) || p;
}
