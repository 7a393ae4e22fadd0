// Type-only imports: the renderers import this file, and must load no Pulumi code.
import type * as pulumi from "@pulumi/pulumi";
import type { HostArgs, KnownHost } from "../hosts";
import type { InstallMethod } from "../install";
import type { CaKeyPairArgs } from "../pki/certificateAuthority";
import type { KeyAlgorithm } from "../pki/profiles";
import type { CgroupDriver, KubeadmApiVersion } from "./versions";

/** Where the control plane's etcd runs. */
export const EtcdTopology = {
  /** kubeadm runs an etcd member as a static pod on every master. The default. */
  Stacked: "stacked",
  /** An etcd cluster elsewhere (an EtcdCluster, for instance): give its endpoints and a client certificate. */
  External: "external",
} as const;
export type EtcdTopology = (typeof EtcdTopology)[keyof typeof EtcdTopology];

/** The provider that encrypts Secrets in etcd (EncryptionConfiguration, apiserver.config.k8s.io/v1). */
export const SecretsEncryptionProvider = {
  /** XSalsa20 and Poly1305 with a 32-byte key. Kubernetes' documentation calls it the strongest local provider. The default. */
  Secretbox: "secretbox",
  /** AES-CBC with PKCS#7 padding and a 32-byte key. Offered for compliance rules that name it. */
  Aescbc: "aescbc",
} as const;
export type SecretsEncryptionProvider =
  (typeof SecretsEncryptionProvider)[keyof typeof SecretsEncryptionProvider];

/** The pod network a {@link CniArgs} installs. */
export const CniKind = {
  /** Cilium's Helm chart (https://helm.cilium.io), in kube-system, with IPAM from the nodes' pod CIDRs. */
  Cilium: "cilium",
  /** Calico through the tigera-operator Helm chart (https://docs.tigera.io/calico/charts), with one IP pool = podSubnet. */
  Calico: "calico",
} as const;
export type CniKind = (typeof CniKind)[keyof typeof CniKind];

/** How fast a new kube-controller-manager and kube-scheduler leader takes over from one that died. */
export const LeaderElectionProfile = {
  /**
   * The components' own timings, which kubeadm keeps: lease 15 s, renew deadline 10 s, retry every 2 s. A
   * dead leader is replaced after about 15 to 17 s. The default.
   */
  Default: "default",
  /**
   * Lease 8 s, renew deadline 6 s, retry every 1 s: a dead leader is replaced after about 8 to 9 s. A leader
   * that cannot renew its lease within 6 s (a stalled API server or etcd, a starved host) steps down and
   * restarts; BENCHMARKS.md has both profiles measured side by side.
   */
  Fast: "fast",
} as const;
export type LeaderElectionProfile = (typeof LeaderElectionProfile)[keyof typeof LeaderElectionProfile];

/** Leader election of kube-controller-manager and kube-scheduler (each runs on every master, one leads). */
export interface LeaderElectionArgs {
  /** The lease timings of kube-controller-manager and kube-scheduler. @default LeaderElectionProfile.Default */
  profile?: LeaderElectionProfile;
}

/** etcd: stacked on the masters (the default), or an external cluster. */
export interface ControlPlaneEtcdArgs {
  /** Stacked (kubeadm's etcd on the masters) or external. @default EtcdTopology.Stacked */
  topology?: EtcdTopology;
  /** External only, required: the etcd client URLs ("https://10.0.0.21:2379"), e.g. `EtcdCluster.clientEndpoints`. */
  endpoints?: pulumi.Input<pulumi.Input<string>[]>;
  /** External only, required: the CA that signed the etcd servers' certificates (`EtcdCluster.caCertPem`). */
  caCertPem?: pulumi.Input<string>;
  /** External only, required: the API servers' client certificate (`EtcdCluster.clientCertPem`). */
  clientCertPem?: pulumi.Input<string>;
  /** External only, required: its key (`EtcdCluster.clientKeyPem`). Treated as a secret. */
  clientKeyPem?: pulumi.Input<string>;
  /**
   * External only: the etcd members run on the masters themselves (an EtcdCluster on the same hosts), and
   * each API server talks to its own member only (`https://127.0.0.1:<port>`, which EtcdCluster's server
   * certificates name), as kubeadm's stacked etcd does. With every member's URL instead, kube-apiserver's
   * etcd client keeps sending a share of its requests to a member whose host died without closing its
   * connections (power loss, cut cable) until its gRPC keepalive gives up (kubernetes/kubernetes#128812):
   * clients wait or time out meanwhile (BENCHMARKS.md has the figures). Requires a member on every master.
   * @default false
   */
  colocated?: boolean;
}

/** OpenID Connect sign-in to the API server (kube-apiserver's --oidc-* flags). */
export interface OidcArgs {
  /** The issuer URL, https only; its discovery document must be reachable from the masters. */
  issuerUrl: string;
  /** The client id that tokens must be issued for (their `aud`). */
  clientId: string;
  /** The claim used as the user name. @default "sub" (kube-apiserver's default) */
  usernameClaim?: string;
  /** Put in front of every user name, e.g. "oidc:". @default kube-apiserver's (the issuer URL, unless the claim is "email") */
  usernamePrefix?: string;
  /** The claim that lists the user's groups. @default none: no groups from tokens */
  groupsClaim?: string;
  /** Put in front of every group name, e.g. "oidc:". @default none */
  groupsPrefix?: string;
}

/** The API server's audit log, on each master in /var/log/kubernetes/audit. */
export interface AuditArgs {
  /** Audit logging on every API server; off, API requests leave no record. @default true */
  enabled?: boolean;
  /**
   * An audit.k8s.io/v1 Policy in YAML. @default hakube's policy: no health probes or system noise, only
   * metadata for Secrets, ConfigMaps and tokens (never their content), metadata for reads, request bodies
   * for other writes.
   */
  policy?: string;
  /** Days to keep rotated logs. @default 30 (kubespray's hardening guide) */
  maxAgeDays?: number;
  /** Rotated logs to keep. @default 10 (kubespray's hardening guide) */
  maxBackups?: number;
  /** Megabytes before a log is rotated. @default 100 (kubespray's hardening guide) */
  maxSizeMb?: number;
}

/** Encryption of Secrets at rest in etcd, with a 32-byte key generated by @pulumi/random and kept secret. */
export interface SecretsEncryptionArgs {
  /** Secrets encrypted at rest in etcd; off, they are stored in plain text. @default true */
  enabled?: boolean;
  /** The encryption provider. @default SecretsEncryptionProvider.Secretbox */
  provider?: SecretsEncryptionProvider;
}

/** kube-apiserver's settings: certificate names, port, OIDC, audit logging, Secret encryption, extra flags. */
export interface ApiServerArgs {
  /** More names and addresses for the API server certificate (DNS names, "*.example.com", IPs). */
  extraSans?: string[];
  /** The port every API server listens on, on its master's address. @default 6443 */
  bindPort?: number;
  /** Authenticate users with OpenID Connect tokens. @default none */
  oidc?: OidcArgs;
  /** Audit logging on every API server. @default { enabled: true } */
  audit?: AuditArgs;
  /** Encryption of Secrets at rest in etcd. @default { enabled: true, provider: SecretsEncryptionProvider.Secretbox } */
  secretsEncryption?: SecretsEncryptionArgs;
  /**
   * More kube-apiserver flags, without the leading dashes: { "default-not-ready-toleration-seconds": "30" }.
   * Flags that hakube sets (audit, encryption, OIDC, advertise address) are refused, and so is
   * `anonymous-auth: "false"`: the readiness gate and load balancers read /readyz without credentials.
   */
  extraArgs?: { [flag: string]: string };
}

/** The sha256 of each Kubernetes binary a `release` install downloads (64 hex digits each). */
export interface KubernetesBinarySha256Args {
  /** dl.k8s.io publishes it beside the binary: `<baseUrl>/v1.31.4/bin/linux/amd64/kubeadm.sha256`. */
  kubeadm: string;
  /** The sha256 of kubelet. */
  kubelet: string;
  /** The sha256 of kubectl. */
  kubectl: string;
}

/** How the Kubernetes binaries get onto the hosts. */
export interface KubernetesInstallArgs {
  /**
   * Package (the default): containerd from the OS packages, kubelet, kubeadm and kubectl of exactly
   * `kubernetesVersion` from the Kubernetes package repository (pkgs.k8s.io, the repository of that minor
   * release), held at that version; apt (Debian, Ubuntu) or dnf/yum (RHEL family, where containerd must
   * already be installed).
   * Release: kubelet, kubeadm and kubectl downloaded from a release server laid out as the official one
   * (`<baseUrl>/v1.31.4/bin/linux/amd64/kubeadm`), each checked against the sha256 in `sha256` before
   * anything is installed; containerd, runc, the CNI plugins and kubeadm's helper tools (conntrack,
   * iptables, socat, ...) from the OS packages (apt only). For hosts without the Kubernetes package
   * repository: air-gapped sites serve the binaries from their own mirror.
   * Preinstalled: everything is already on the host (golden images): only the versions and containerd's
   * cgroup driver are checked.
   * @default InstallMethod.Package
   */
  method?: InstallMethod;
  /**
   * Package only: the repository root; `/v<major>.<minor>/deb/` or `/rpm/` is appended.
   * @default "https://pkgs.k8s.io/core:/stable:" (the Kubernetes project's)
   */
  repositoryUrl?: string;
  /**
   * Release only: the release server's root, laid out as the official one:
   * `<baseUrl>/v<version>/bin/linux/amd64/<binary>`.
   * @default "https://dl.k8s.io/release" (the Kubernetes project's)
   */
  baseUrl?: string;
  /**
   * Release only, required: the sha256 of kubeadm, kubelet and kubectl of `kubernetesVersion` (linux/amd64).
   * Each download is checked against it before anything is installed: take the values from a source you
   * trust (the release's own .sha256 files, fetched once over https), not from the mirror the hosts use.
   */
  sha256?: KubernetesBinarySha256Args;
}

/** A pod network from a Helm chart, installed through the cluster's provider once the API is ready. */
export interface CniArgs {
  /** The pod network: Cilium or Calico. */
  kind: CniKind;
  /** The chart version, pinned: "1.16.5" for Cilium, "v3.29.1" for Calico's tigera-operator. */
  version: string;
  /** The Helm chart repository. @default the chart's project repository (see `CniKind`) */
  repository?: string;
  /**
   * Chart values, merged over hakube's (top-level keys replace hakube's). hakube sets, for Cilium,
   * `ipam.mode: kubernetes` and `k8sServiceHost`/`k8sServicePort` = the endpoint; for Calico, one IPv4 or
   * IPv6 pool equal to `podSubnet` with VXLAN across subnets.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Helm values are free-form; `any` maps to pulumi.json#/Any in the schema
  values?: { [key: string]: any };
}

/** The args of a {@link HaControlPlane}. */
export interface HaControlPlaneArgs {
  /**
   * The control-plane hosts. Order matters: the first runs `kubeadm init`, the others join one at a time
   * in this order. With stacked etcd each master is an etcd member: use 3, 5 or 7.
   */
  masters: HostArgs[];
  /**
   * The "host:port" every client uses to reach the API servers: a VIP (KeepalivedVip) or a load balancer,
   * by IP address ("10.0.0.10:6443", "[fd00::10]:6443") or DNS name ("api.example.com:6443"). It is
   * kubeadm's controlPlaneEndpoint and the kubeconfig's server. Required with more than one master.
   * Pass a KeepalivedVip's or LoadBalancer's `endpoint` output: it resolves only once the VIP or load
   * balancer forwards, so `kubeadm init` runs after that without `dependsOn`. A plain string is checked
   * before anything is created, an Output with the same rules when it resolves, before any command runs.
   * @default the first master's address and `apiServer.bindPort` (one master only)
   */
  endpoint?: pulumi.Input<string>;
  /**
   * The Kubernetes release, "1.31.4" (or "v1.31.4"), 1.20 or later. hakube renders kubeadm's configuration
   * in the API that minor's kubeadm reads: v1beta2 for 1.20-1.21, v1beta3 for 1.22-1.30, v1beta4 from 1.31.
   * 1.20 to 1.35 are the minors it was written against (newer ones are configured as 1.35, with a warning);
   * a minor past its upstream end of life gets a warning, not a refusal.
   */
  kubernetesVersion: string;
  /** Stacked etcd, or an external cluster's endpoints and credentials. @default { topology: EtcdTopology.Stacked } */
  etcd?: ControlPlaneEtcdArgs;
  /**
   * The pods' addresses: a CIDR block of the masters' IP family, /8 to /24 for IPv4 (each node gets a /24),
   * /48 to /64 for IPv6 (each node gets a /64). It must overlap neither serviceSubnet nor any host.
   * @default "10.244.0.0/16"
   */
  podSubnet?: string;
  /** The Services' cluster IPs: /12 to /28 for IPv4, /108 to /124 for IPv6. @default "10.96.0.0/12" (kubeadm's) */
  serviceSubnet?: string;
  /** Nodes that run workloads, joined in parallel once every master has joined. @default none */
  workers?: HostArgs[];
  /** kube-apiserver's certificate names, port, OIDC, audit logging and Secret encryption. */
  apiServer?: ApiServerArgs;
  /** How kubeadm, kubelet and kubectl get onto the hosts. @default { method: InstallMethod.Package } */
  install?: KubernetesInstallArgs;
  /**
   * The cluster CA (certificate and key). @default a new one, "<name>-ca", 10 years. Give one to keep the
   * CA across rebuilds of the cluster; it must be an RSA or ECDSA CA (kubeadm cannot use Ed25519). Do not
   * give the external etcd's CA: etcd would then trust every certificate the cluster CA signs (warned).
   */
  ca?: CaKeyPairArgs;
  /**
   * The algorithm of the CAs hakube makes and of the certificates kubeadm makes from them (kubeadm's
   * encryptionAlgorithm from 1.31; before, ECDSA P-256 is kubeadm's PublicKeysECDSA feature gate and RSA-2048
   * its default, the only two it offers). RSA or ECDSA: kubeadm cannot use Ed25519; ECDSA P-384 needs
   * Kubernetes 1.34.
   * @default KeyAlgorithm.EcdsaP256
   */
  keyAlgorithm?: KeyAlgorithm;
  /**
   * The service-account token signing key. @default KeyAlgorithm.Rsa2048 (kubeadm's default; some token
   * consumers outside the cluster accept only RS256)
   */
  serviceAccountKeyAlgorithm?: KeyAlgorithm;
  /** The cluster's name in kubeconfigs and kubeadm's configuration. @default "kubernetes" (kubeadm's) */
  clusterName?: string;
  /**
   * kubeadm preflight checks to ignore on every node ("NumCPU", "Mem", or "all"), for small lab machines.
   * @default none
   */
  ignorePreflightErrors?: string[];
  /** A pod network installed once the API is ready. @default none: install a pod network yourself with `provider` */
  cni?: CniArgs;
  /** How long the readiness gate waits for every API server and node. @default 600 */
  readyTimeoutSeconds?: number;
  /** Leader election of kube-controller-manager and kube-scheduler. @default { profile: LeaderElectionProfile.Default } */
  leaderElection?: LeaderElectionArgs;
  /**
   * The registry (and path) the control-plane and pause images come from: kubeadm's imageRepository and
   * containerd's sandbox image. Air-gapped clusters point it at their own registry, which must serve
   * `kube-apiserver:v<version>`, `kube-controller-manager`, `kube-scheduler`, `kube-proxy`, `pause`, `etcd`
   * (stacked etcd) and `coredns` under the tags kubeadm of that version asks for (`kubeadm config images list`).
   * @default "registry.k8s.io" (the Kubernetes project's)
   */
  imageRepository?: string;
  /**
   * Set when the nodes are themselves containers (systemd-nspawn, LXC, kind-style node images), not
   * machines or VMs: containerd never asks for a negative OOM score adjustment (restrict_oom_score_adj: a
   * container lacks CAP_SYS_RESOURCE) and kube-proxy leaves the conntrack table size alone (conntrack
   * maxPerCore 0: nf_conntrack_max is global and read-only inside a container). kind sets both for its nodes.
   * @default false
   */
  nodesInContainers?: boolean;
}

/** kube-controller-manager's and kube-scheduler's --leader-elect-* durations, in seconds. */
export interface LeaderElectionTimings {
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

/** HaControlPlaneArgs once every Output in them (addresses, endpoint, external etcd, CA certificate) resolved. */
export type KnownHaControlPlaneArgs = Omit<
  HaControlPlaneArgs,
  "masters" | "workers" | "endpoint" | "etcd" | "ca"
> & {
  masters: KnownHost[];
  workers?: KnownHost[];
  endpoint?: string;
  etcd?: Omit<ControlPlaneEtcdArgs, "endpoints" | "caCertPem"> & { endpoints?: string[]; caCertPem?: string };
  ca?: Omit<CaKeyPairArgs, "certPem"> & { certPem: string };
};

/** One node as the renderers see it. */
export interface NodeSettings {
  name: string;
  address: string;
}

/** The "host:port" every client uses, split. */
export interface EndpointSettings {
  /** A DNS name or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** "host:port" with IPv6 in brackets: kubeadm's controlPlaneEndpoint. */
  hostPort: string;
}

/** What every renderer reads: args with defaults applied, all plain values. */
export interface ControlPlaneSettings {
  /** The component name. */
  cluster: string;
  clusterName: string;
  /** "1.31.4" */
  kubernetesVersion: string;
  /** "1.31" */
  kubernetesMinor: string;
  endpoint: EndpointSettings;
  bindPort: number;
  podSubnet: string;
  serviceSubnet: string;
  dnsDomain: string;
  etcdTopology: EtcdTopology;
  /** kubeadm's encryptionAlgorithm: "ECDSA-P256", "RSA-2048", ... */
  encryptionAlgorithm: string;
  /** The API server certificate's extra SANs: endpoint host, master addresses and names, extra SANs. */
  certSans: string[];
  /** `policy`: the custom audit policy; undefined for hakube's default (render/files.ts renderAuditPolicy). */
  audit?: { policy?: string; maxAgeDays: number; maxBackups: number; maxSizeMb: number };
  secretsEncryption?: { provider: SecretsEncryptionProvider };
  oidc?: OidcArgs;
  apiServerExtraArgs: Array<[string, string]>;
  ignorePreflightErrors: string[];
  install: {
    method: InstallMethod;
    /** Package: the repository root, without a trailing slash. */
    repositoryUrl: string;
    /** Release: the release server root, without a trailing slash. */
    releaseBaseUrl: string;
    /** Release: the expected sha256 of each binary. */
    sha256?: { kubeadm: string; kubelet: string; kubectl: string };
  };
  /** kubeadm's configuration API for this version. */
  kubeadmApi: KubeadmApiVersion;
  /** The kubelet's and containerd's cgroup driver (the version's kubeadm default). */
  cgroupDriver: CgroupDriver;
  /** kubeadm's imageRepository, without a trailing slash. */
  imageRepository: string;
  /** containerd's sandbox image: `<imageRepository>/pause:<the version's tag>`. */
  pauseImage: string;
  /** kubeadm of this version runs crictl (before 1.31). */
  kubeadmNeedsCrictl: boolean;
  /** See HaControlPlaneArgs.nodesInContainers. */
  nodesInContainers: boolean;
  /** The kubeconfig certificate's group (organization): the one kubeadm of this version binds to cluster-admin. */
  adminGroup: string;
  /** Leader election timings for kube-controller-manager and kube-scheduler; undefined: their defaults. */
  leaderElection?: LeaderElectionTimings;
  readyTimeoutSeconds: number;
  masters: NodeSettings[];
  workers: NodeSettings[];
}
