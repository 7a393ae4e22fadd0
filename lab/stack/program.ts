/**
 * The lab stack: what `npm run lab` deploys to the lab's hosts, with hakube's own components. A thin
 * program run by the lab runner (lab/runner); it is not part of the shipped program (stacks/).
 *
 * - etcd only (`kubernetes` absent): EtcdCluster on the masters, for the etcd tests and benchmarks.
 * - Kubernetes: a CertificateAuthority for the cluster, HAProxy on every master binding the VIP
 *   (LoadBalancer, port 8443: kube-apiserver has 6443 on every address of the masters), keepalived moving
 *   the VIP to a master whose HAProxy is alive (KeepalivedVip), an external EtcdCluster on the masters or
 *   kubeadm's stacked etcd, HaControlPlane with kubeadm on the masters and workers, then the lab's pod
 *   network (lab/stack/podNetwork.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as hakube from "../../index";
import type { LabKubernetes } from "../hosts";
import { externalEtcd } from "../../stacks/common";
import { LabPodNetwork } from "./podNetwork";

/** The port HAProxy listens on, on the VIP: the API endpoint is `<vip>:8443`. */
export const LAB_API_PORT = 8443;
/** kubeadm's default Service range; the pod network routes it (podNetwork.ts). */
export const LAB_SERVICE_SUBNET = "10.96.0.0/12";
/** The VRRP group of the lab's VIP (one per lab bridge). */
const LAB_VIRTUAL_ROUTER_ID = 51;
/**
 * kubeadm 1.20's preflight pulls every control-plane image, CoreDNS's included, and there is no CoreDNS
 * image here (not packaged by Debian): the lab lets that one pull fail. Real clusters leave this empty.
 */
const LAB_IGNORED_PREFLIGHT_ERRORS = ["ImagePull"];

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
  /** The control-plane hosts (and etcd members), by name, in order. */
  masters: string[];
  /** Worker hosts, by name (Kubernetes only). */
  workers?: string[];
  etcdRelease: LabEtcdReleaseArgs;
  /** Raft timings; the component's defaults (etcd upstream's) unless given. */
  etcdHeartbeatIntervalMs?: number;
  etcdElectionTimeoutMs?: number;
  etcdTimingProfile?: hakube.EtcdTimingProfile;
  /** Deploy Kubernetes with what the lab serves; absent: etcd only. */
  kubernetes?: LabKubernetes;
  /** Kubernetes only: kubeadm's stacked etcd instead of an EtcdCluster. */
  stackedEtcd?: boolean;
  /** Kubernetes only: the VIP with its prefix ("10.77.0.10/24") on the masters' interface host0. */
  apiVip?: string;
  /** KeepalivedVip timing overrides (benchmarks compare profiles). */
  vipTiming?: hakube.VrrpTimingArgs;
  /** HAProxy check overrides (benchmarks compare profiles). */
  haproxyCheck?: hakube.HaproxyCheckArgs;
  /** Leader election of the controller manager and scheduler (benchmarks compare profiles). */
  leaderElection?: hakube.LeaderElectionProfile;
  /**
   * External etcd: each API server uses its own member (the default), or false: every member's URL
   * (benchmarks measure what that costs when a master dies).
   */
  etcdColocated?: boolean;
  /** EtcdCluster's scheduled snapshots and restore (the etcd day-2 tests). */
  etcdBackup?: hakube.EtcdBackupArgs;
  etcdRestoreFrom?: hakube.EtcdRestoreArgs;
  etcdRecoverQuorum?: hakube.EtcdRecoverQuorumArgs;
  etcdDefrag?: hakube.EtcdDefragArgs;
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
  const masters = args.masters.map((n) => hostArgs(n, "masters"));
  const etcd = args.stackedEtcd
    ? undefined
    : new hakube.EtcdCluster("etcd", {
        members: masters,
        version: args.etcdRelease.version,
        install: {
          method: hakube.InstallMethod.Release,
          baseUrl: args.etcdRelease.baseUrl,
          sha256: args.etcdRelease.sha256,
        },
        heartbeatIntervalMs: args.etcdHeartbeatIntervalMs,
        electionTimeoutMs: args.etcdElectionTimeoutMs,
        timingProfile: args.etcdTimingProfile,
        backup: args.etcdBackup,
        restoreFrom: args.etcdRestoreFrom,
        recoverQuorum: args.etcdRecoverQuorum,
        defrag: args.etcdDefrag,
      });
  const etcdOutputs = etcd
    ? {
        etcdEndpoints: etcd.clientEndpoints,
        etcdMembers: etcd.memberNames,
        etcdCaCertPem: etcd.caCertPem,
        etcdClientCertPem: etcd.clientCertPem,
        etcdClientKeyPem: etcd.clientKeyPem,
      }
    : {};
  if (!args.kubernetes) return etcdOutputs;
  if (!args.apiVip) throw new Error("labStack: Kubernetes needs apiVip");
  const workers = (args.workers ?? []).map((n) => hostArgs(n, "workers"));
  const k = args.kubernetes;

  // Composed through outputs, as the README's bare-metal program: HAProxy binds the VIP's address, the
  // control plane's endpoint resolves once the VIP and every HAProxy forward, and the external etcd's
  // outputs once it is healthy. No dependsOn.
  const ca = new hakube.CertificateAuthority("cluster-ca", { commonName: "kubernetes" });
  const keepalived = new hakube.KeepalivedVip("api-vip", {
    address: args.apiVip,
    interface: "host0",
    members: masters,
    virtualRouterId: LAB_VIRTUAL_ROUTER_ID,
    port: LAB_API_PORT,
    healthCheck: { kind: hakube.VipHealthCheckKind.Haproxy },
    timing: args.vipTiming,
  });
  const lb = new hakube.LoadBalancer("api-lb", {
    kind: hakube.LoadBalancerKind.Haproxy,
    port: LAB_API_PORT,
    haproxy: {
      hosts: masters,
      bindAddress: keepalived.address,
      backends: masters.map((m) => ({ name: m.name, address: m.address })),
      caCertPem: ca.certPem,
      check: args.haproxyCheck,
    },
  });
  const cluster = new hakube.HaControlPlane("k8s", {
    masters,
    workers,
    endpoint: pulumi.all([keepalived.endpoint, lb.endpoint]).apply(([endpoint]) => endpoint),
    kubernetesVersion: k.version,
    // The members run on the masters: each API server uses its own (ControlPlaneEtcdArgs.colocated).
    etcd: etcd
      ? { ...externalEtcd(etcd), colocated: args.etcdColocated ?? true }
      : { topology: hakube.EtcdTopology.Stacked },
    serviceSubnet: LAB_SERVICE_SUBNET,
    ca,
    install: {
      method: hakube.InstallMethod.Release,
      baseUrl: k.releaseBaseUrl,
      sha256: k.sha256,
    },
    imageRepository: k.imageRepository,
    nodesInContainers: true,
    ignorePreflightErrors: LAB_IGNORED_PREFLIGHT_ERRORS,
    leaderElection: args.leaderElection ? { profile: args.leaderElection } : undefined,
  });
  new LabPodNetwork(
    "pod-network",
    { nodes: [...masters, ...workers], serviceSubnet: LAB_SERVICE_SUBNET },
    { dependsOn: [cluster] },
  );
  return {
    ...etcdOutputs,
    apiEndpoint: cluster.endpoint,
    clusterCaCertPem: cluster.caCertPem,
    kubeconfig: cluster.kubeconfig,
    masters: args.masters,
    workers: args.workers ?? [],
    etcdTopology: etcd ? "external" : "stacked",
  };
}
