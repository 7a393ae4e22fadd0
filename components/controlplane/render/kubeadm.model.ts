/**
 * What kubeadm's configuration says, in no API version: built from the settings, one node, the bootstrap
 * token, external etcd's endpoints and a join's discovery. Each render/kubeadm.<version>.ts writes it in its
 * API version's form (extra arguments as a map or as a list, the key algorithm as a field or as a feature
 * gate); nothing here knows those forms. Pure: no Pulumi import.
 *
 * What the configuration says, in short:
 * - controlPlaneEndpoint is the VIP or load balancer, so kubeadm writes it into the kubeconfigs of the
 *   kubelets (on joined nodes) and of kube-proxy, and into the API server certificate;
 * - certSANs add every master's address and name and the extra SANs;
 * - etcd is local (stacked, kubeadm makes its certificates from the etcd CA hakube put in place) or external
 *   (endpoints plus the client certificate hakube put in place);
 * - images come from `imageRepository`, written out even when it is kubeadm's own default (and, for the
 *   kubeadm releases that would look for CoreDNS at the wrong path then, CoreDNS's repository too);
 * - the controller manager and the scheduler elect a leader (their default, written out);
 * - the audit log and Secret encryption are kube-apiserver flags with their files mounted read-only;
 * - the kubelet's cgroup driver is the version's (containerd is set up to match);
 * - nodes that are containers get kube-proxy with conntrack maxPerCore 0;
 * - joins discover the cluster through the endpoint with the bootstrap token and the CA's public key
 *   hash, both known to the program, so nothing is read back from the first master.
 */
import {
  API_SERVER_CONFIG_DIR,
  AUDIT_LOG_DIR,
  AUDIT_LOG_FILE,
  AUDIT_POLICY_FILE,
  BOOTSTRAP_TOKEN_GROUP,
  BOOTSTRAP_TOKEN_TTL_SECONDS,
  CRI_SOCKET,
  DEFAULT_IMAGE_REPOSITORY,
  ENCRYPTION_CONFIG_FILE,
  PKI_DIR,
} from "../defaults";
import { ControlPlaneSettings, EtcdTopology, NodeSettings } from "../types";
import { CgroupDriver, kubeadmNeedsCorednsRepository, parseKubernetesVersion } from "../versions";
import { PKI_FILES } from "./files";

/** Command-line arguments in order, each [flag without dashes, value]. */
export type ArgPairs = ReadonlyArray<readonly [string, string]>;

/** A host directory mounted into a control-plane pod. */
export interface KubeadmHostPathMount {
  name: string;
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
  pathType: "Directory" | "DirectoryOrCreate";
}

/** How a node registers: its name, containerd, the kubelet's flags, the preflight checks it skips. */
export interface KubeadmNodeRegistration {
  name: string;
  criSocket: string;
  kubeletExtraArgs: ArgPairs;
  ignorePreflightErrors: readonly string[];
}

/** Where a node's own API server listens. */
export interface KubeadmApiEndpoint {
  advertiseAddress: string;
  bindPort: number;
}

/** Stacked etcd (kubeadm's local etcd) or an external cluster. */
export type KubeadmEtcd =
  | { local: { dataDir: string } }
  | { external: { endpoints: string[]; caFile: string; certFile: string; keyFile: string } };

/** The cluster-wide part (kubeadm's ClusterConfiguration). */
export interface KubeadmCluster {
  clusterName: string;
  /** "v1.31.4" */
  kubernetesVersion: string;
  controlPlaneEndpoint: string;
  certificatesDir: string;
  imageRepository: string;
  /** CoreDNS's repository, only where kubeadm would not find it from `imageRepository` (see versions.ts). */
  corednsImageRepository?: string;
  /** kubeadm's name of the key algorithm: "ECDSA-P256", "RSA-2048", ... */
  keyAlgorithm: string;
  networking: { dnsDomain: string; serviceSubnet: string; podSubnet: string };
  etcd: KubeadmEtcd;
  apiServer: {
    certSANs: readonly string[];
    extraArgs: ArgPairs;
    extraVolumes: readonly KubeadmHostPathMount[];
  };
  controllerManagerExtraArgs: ArgPairs;
  schedulerExtraArgs: ArgPairs;
}

/** The first master's own part (kubeadm's InitConfiguration). */
export interface KubeadmInit {
  bootstrapToken: {
    token: string;
    description: string;
    ttlSeconds: number;
    usages: readonly string[];
    groups: readonly string[];
  };
  localAPIEndpoint: KubeadmApiEndpoint;
  nodeRegistration: KubeadmNodeRegistration;
}

/** The first master's whole file: its own part, the cluster's, the kubelets' and kube-proxy's. */
export interface KubeadmInitFile {
  init: KubeadmInit;
  cluster: KubeadmCluster;
  kubelet: { cgroupDriver: CgroupDriver };
  /** Only when the nodes are containers: kube-proxy leaves the conntrack table size as it is. */
  kubeProxy?: { conntrackMaxPerCore: number };
}

/** What a joining node needs to find and trust the cluster. */
export interface DiscoveryParams {
  /** The bootstrap token, "[a-z0-9]{6}.[a-z0-9]{16}". Secret. */
  token: string;
  /** "sha256:<hex>" of the cluster CA's public key (see discoveryTokenCaCertHash). */
  caCertHash: string;
}

/** A joining node's configuration; `controlPlane` only for masters. */
export interface KubeadmJoin {
  discovery: { apiServerEndpoint: string; token: string; caCertHashes: readonly string[] };
  nodeRegistration: KubeadmNodeRegistration;
  controlPlane?: { localAPIEndpoint: KubeadmApiEndpoint };
}

/** kube-apiserver's flags from hakube's options, then `apiServer.extraArgs` (sorted). */
export function apiServerArgs(s: ControlPlaneSettings): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (s.audit) {
    out.push(
      ["audit-policy-file", AUDIT_POLICY_FILE],
      ["audit-log-path", AUDIT_LOG_FILE],
      ["audit-log-maxage", String(s.audit.maxAgeDays)],
      ["audit-log-maxbackup", String(s.audit.maxBackups)],
      ["audit-log-maxsize", String(s.audit.maxSizeMb)],
    );
  }
  if (s.secretsEncryption) out.push(["encryption-provider-config", ENCRYPTION_CONFIG_FILE]);
  if (s.oidc) {
    const o = s.oidc;
    out.push(["oidc-issuer-url", o.issuerUrl], ["oidc-client-id", o.clientId]);
    if (o.usernameClaim !== undefined) out.push(["oidc-username-claim", o.usernameClaim]);
    if (o.usernamePrefix !== undefined) out.push(["oidc-username-prefix", o.usernamePrefix]);
    if (o.groupsClaim !== undefined) out.push(["oidc-groups-claim", o.groupsClaim]);
    if (o.groupsPrefix !== undefined) out.push(["oidc-groups-prefix", o.groupsPrefix]);
  }
  out.push(...s.apiServerExtraArgs);
  return out;
}

function apiServerVolumes(s: ControlPlaneSettings): KubeadmHostPathMount[] {
  const volumes: KubeadmHostPathMount[] = [];
  if (s.audit || s.secretsEncryption) {
    volumes.push({
      name: "hakube-apiserver-config",
      hostPath: API_SERVER_CONFIG_DIR,
      mountPath: API_SERVER_CONFIG_DIR,
      readOnly: true,
      pathType: "Directory",
    });
  }
  if (s.audit) {
    volumes.push({
      name: "hakube-audit-log",
      hostPath: AUDIT_LOG_DIR,
      mountPath: AUDIT_LOG_DIR,
      readOnly: false,
      pathType: "DirectoryOrCreate",
    });
  }
  return volumes;
}

/** The node's registration: its name, containerd, the kubelet on the node's own address. */
function nodeRegistration(s: ControlPlaneSettings, node: NodeSettings): KubeadmNodeRegistration {
  return {
    name: node.name,
    criSocket: CRI_SOCKET,
    kubeletExtraArgs: [["node-ip", node.address]],
    ignorePreflightErrors: [...s.ignorePreflightErrors],
  };
}

/**
 * The cluster-wide part. kubeadm uploads it at init (ConfigMap kube-system/kubeadm-config) and joining
 * masters read it from there.
 * @param etcdEndpoints external etcd only: the client URLs, resolved
 */
export function buildKubeadmCluster(
  s: ControlPlaneSettings,
  etcdEndpoints?: readonly string[],
): KubeadmCluster {
  let etcd: KubeadmEtcd;
  if (s.etcdTopology === EtcdTopology.External) {
    if (!etcdEndpoints || etcdEndpoints.length === 0) throw new Error("external etcd needs its endpoints");
    etcd = {
      external: {
        endpoints: [...etcdEndpoints],
        caFile: PKI_FILES.etcdCaCert,
        certFile: PKI_FILES.apiServerEtcdClientCert,
        keyFile: PKI_FILES.apiServerEtcdClientKey,
      },
    };
  } else {
    etcd = { local: { dataDir: "/var/lib/etcd" } };
  }
  const v = parseKubernetesVersion(s.kubernetesVersion);
  if (!v) throw new Error(`unresolved kubernetesVersion ${s.kubernetesVersion}`);
  const corednsByName =
    s.imageRepository === DEFAULT_IMAGE_REPOSITORY && kubeadmNeedsCorednsRepository(v.minor, v.patch);
  return {
    clusterName: s.clusterName,
    kubernetesVersion: `v${s.kubernetesVersion}`,
    controlPlaneEndpoint: s.endpoint.hostPort,
    certificatesDir: PKI_DIR,
    imageRepository: s.imageRepository,
    corednsImageRepository: corednsByName ? `${s.imageRepository}/coredns` : undefined,
    keyAlgorithm: s.encryptionAlgorithm,
    networking: { dnsDomain: s.dnsDomain, serviceSubnet: s.serviceSubnet, podSubnet: s.podSubnet },
    etcd,
    apiServer: { certSANs: s.certSans, extraArgs: apiServerArgs(s), extraVolumes: apiServerVolumes(s) },
    controllerManagerExtraArgs: leaderElectionArgs(s),
    schedulerExtraArgs: leaderElectionArgs(s),
  };
}

/** leader-elect (the default, written out), and the profile's timings when it is not the default. */
function leaderElectionArgs(s: ControlPlaneSettings): ArgPairs {
  const t = s.leaderElection;
  return [
    ["leader-elect", "true"],
    ...(t
      ? ([
          ["leader-elect-lease-duration", `${t.leaseDurationSeconds}s`],
          ["leader-elect-renew-deadline", `${t.renewDeadlineSeconds}s`],
          ["leader-elect-retry-period", `${t.retryPeriodSeconds}s`],
        ] as ArgPairs)
      : []),
  ];
}

/** The first master's own part, with the bootstrap token that every join uses. */
export function buildKubeadmInit(s: ControlPlaneSettings, node: NodeSettings, token: string): KubeadmInit {
  return {
    bootstrapToken: {
      token,
      description: `hakube HaControlPlane ${s.cluster} join token`,
      ttlSeconds: BOOTSTRAP_TOKEN_TTL_SECONDS,
      usages: ["signing", "authentication"],
      groups: [BOOTSTRAP_TOKEN_GROUP],
    },
    localAPIEndpoint: { advertiseAddress: node.address, bindPort: s.bindPort },
    nodeRegistration: nodeRegistration(s, node),
  };
}

/**
 * The first master's whole file.
 * @param etcdEndpoints external etcd only: the client URLs, resolved
 */
export function buildKubeadmInitFile(
  s: ControlPlaneSettings,
  node: NodeSettings,
  token: string,
  etcdEndpoints?: readonly string[],
): KubeadmInitFile {
  return {
    init: buildKubeadmInit(s, node, token),
    cluster: buildKubeadmCluster(s, etcdEndpoints),
    kubelet: { cgroupDriver: s.cgroupDriver },
    // kind does the same for its nodes: nf_conntrack_max is global and read-only inside a container.
    kubeProxy: s.nodesInContainers ? { conntrackMaxPerCore: 0 } : undefined,
  };
}

/** A join through the endpoint; `controlPlane` adds this node's API server (and stacked etcd member). */
export function buildKubeadmJoin(
  s: ControlPlaneSettings,
  node: NodeSettings,
  discovery: DiscoveryParams,
  controlPlane: boolean,
): KubeadmJoin {
  return {
    discovery: {
      apiServerEndpoint: s.endpoint.hostPort,
      token: discovery.token,
      caCertHashes: [discovery.caCertHash],
    },
    nodeRegistration: nodeRegistration(s, node),
    controlPlane: controlPlane
      ? { localAPIEndpoint: { advertiseAddress: node.address, bindPort: s.bindPort } }
      : undefined,
  };
}
