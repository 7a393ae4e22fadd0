/**
 * The lab stack: what `npm run lab` deploys to the lab's hosts. A thin program: hosts in, components
 * wired together, outputs out. It runs under `pulumi up` with the Pulumi CLI (stacks/index.ts reads the
 * same values from config) and, in this workplace, under the lab runner.
 */
import * as hakube from "../../index";
import { ApiServerStandIn, STANDIN_PORT } from "./apiserverStandIn";
import { resolveHaControlPlane } from "../../components/controlplane/settings";

/** The Kubernetes version the lab's (would-be) control plane is configured for. */
const LAB_KUBERNETES_VERSION = "1.31.4";
/** SANs kubeadm puts on every API server certificate itself (with the default service subnet 10.96.0.0/12). */
const KUBEADM_DEFAULT_SANS = [
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
  "10.96.0.1",
];

/** A lab host as the lab made it. */
export interface LabHostArgs {
  name: string;
  address: string;
  /** The host's SSH public key (authorized_keys line): every connection pins it. */
  hostKey: string;
}

/** Where the lab serves an etcd release tarball to its hosts. */
export interface LabEtcdReleaseArgs {
  version: string;
  baseUrl: string;
  sha256: string;
}

export interface LabStackArgs {
  hosts: LabHostArgs[];
  /** The private key (OpenSSH or PEM) that root on every lab host accepts. */
  privateKey: hakube.ConnectionArgs["privateKey"];
  /** Which hosts run etcd, by name, in order. */
  etcdMembers: string[];
  etcdRelease: LabEtcdReleaseArgs;
  /** Raft timings; the component's defaults (etcd upstream's) unless given. */
  etcdHeartbeatIntervalMs?: number;
  etcdElectionTimeoutMs?: number;
  /**
   * The API endpoint: a VRRP virtual IP ("10.77.0.10/24") on the masters' interface, with HAProxy on
   * every master binding it. Omit for etcd only.
   */
  apiVip?: string;
  /** The masters' network interface (nspawn containers: "host0"). */
  apiInterface?: string;
  /** Which hosts are masters, in order. @default etcdMembers */
  masters?: string[];
  /** KeepalivedVip timing overrides (benchmarks compare profiles). */
  vipTiming?: hakube.VrrpTimingArgs;
  /** HAProxy check overrides (benchmarks compare profiles). */
  haproxyCheck?: hakube.HaproxyCheckArgs;
}

export function labStack(args: LabStackArgs) {
  const byName = new Map(args.hosts.map((h) => [h.name, h]));
  const hostArgs = (name: string, what: string): hakube.HostArgs => {
    const h = byName.get(name);
    if (!h) {
      const known = [...byName.keys()].join(", ");
      throw new Error(`${what} names ${JSON.stringify(name)}, which is not a lab host (${known})`);
    }
    return {
      name: h.name,
      address: h.address,
      connection: { host: h.address, user: "root", privateKey: args.privateKey, hostKey: h.hostKey },
    };
  };
  const members = args.etcdMembers.map((name) => hostArgs(name, "etcdMembers"));
  const etcd = new hakube.EtcdCluster("etcd", {
    members,
    version: args.etcdRelease.version,
    install: {
      method: hakube.EtcdInstallMethod.Release,
      baseUrl: args.etcdRelease.baseUrl,
      sha256: args.etcdRelease.sha256,
    },
    heartbeatIntervalMs: args.etcdHeartbeatIntervalMs,
    electionTimeoutMs: args.etcdElectionTimeoutMs,
  });
  const api = args.apiVip
    ? apiEndpoint(
        args,
        (args.masters ?? args.etcdMembers).map((n) => hostArgs(n, "masters")),
      )
    : {};
  return {
    ...api,
    etcdEndpoints: etcd.clientEndpoints,
    etcdMembers: etcd.memberNames,
    etcdCaCertPem: etcd.caCertPem,
    etcdClientCertPem: etcd.clientCertPem,
    etcdClientKeyPem: etcd.clientKeyPem,
  };
}

/**
 * The control-plane endpoint: a cluster CA, the kube-apiserver stand-in on every master (the lab has no
 * Kubernetes binaries), HAProxy on every master binding the VIP (checks /readyz of every master), and
 * keepalived moving the VIP to a master whose HAProxy is alive.
 */
function apiEndpoint(args: LabStackArgs, masters: hakube.HostArgs[]) {
  const vip = args.apiVip!.split("/")[0];
  const ca = new hakube.CertificateAuthority("cluster-ca", { commonName: "hakube-lab-cluster-ca" });
  const lb = new hakube.LoadBalancer("api-lb", {
    kind: hakube.LoadBalancerKind.Haproxy,
    port: STANDIN_PORT,
    haproxy: {
      hosts: masters,
      bindAddress: vip,
      backends: masters.map((m) => ({ name: m.name, address: m.address })),
      caCertPem: ca.certPem,
      check: args.haproxyCheck,
    },
  });
  // The stand-in's certificates carry exactly the SANs that HaControlPlane's kubeadm configuration names
  // for this endpoint and these masters (the same pure function computes them), plus those kubeadm adds
  // itself; the CA is the one a real deployment would pass to HaControlPlane as `ca`.
  const apiCertSans = resolveHaControlPlane("k8s", {
    masters,
    endpoint: `${vip}:${STANDIN_PORT}`,
    kubernetesVersion: LAB_KUBERNETES_VERSION,
  }).certSans;
  new ApiServerStandIn(
    "apiserver-standin",
    { hosts: masters, ca, extraSans: [...apiCertSans, ...KUBEADM_DEFAULT_SANS] },
    { dependsOn: [lb] },
  );
  const keepalived = new hakube.KeepalivedVip(
    "api-vip",
    {
      address: args.apiVip!,
      interface: args.apiInterface ?? "host0",
      members: masters,
      virtualRouterId: 51,
      port: STANDIN_PORT,
      healthCheck: { kind: hakube.VipHealthCheckKind.Haproxy },
      timing: args.vipTiming,
    },
    { dependsOn: [lb] },
  );
  return {
    apiEndpoint: keepalived.endpoint,
    apiLbEndpoint: lb.endpoint,
    apiCertSans,
    clusterCaCertPem: ca.certPem,
  };
}
