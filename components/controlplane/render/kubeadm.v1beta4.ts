/**
 * kubeadm's configuration, API version kubeadm.k8s.io/v1beta4 (kubeadm 1.31 and later): InitConfiguration
 * and ClusterConfiguration for the first master, JoinConfiguration for the other masters and the workers.
 * Versioned: a later kubeadm API gets its own file beside this one. v1beta4 writes extra arguments as a
 * list of { name, value }. Pure: `build*` returns the objects, `render*` the YAML; no Pulumi import.
 *
 * What the configuration says, in short:
 * - controlPlaneEndpoint is the VIP or load balancer, so kubeadm writes it into the kubeconfigs of the
 *   kubelets (on joined nodes) and of kube-proxy, and into the API server certificate;
 * - certSANs add every master's address and name and the extra SANs;
 * - etcd is local (stacked, kubeadm makes its certificates from the etcd CA hakube put in place) or external
 *   (endpoints plus the client certificate hakube put in place);
 * - the controller manager and the scheduler elect a leader (their default, written out);
 * - the audit log and Secret encryption are kube-apiserver flags with their files mounted read-only;
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
  ENCRYPTION_CONFIG_FILE,
  PKI_DIR,
} from "../defaults";
import { ControlPlaneSettings, EtcdTopology, NodeSettings } from "../types";
import { PKI_FILES } from "./files";
import { toYamlDocuments, YamlValue } from "./yaml";

type Doc = { [key: string]: YamlValue };

const KUBEADM_API_VERSION_V1BETA4 = "kubeadm.k8s.io/v1beta4";

/** A v1beta4 extra argument. */
const arg = (name: string, value: string | number | boolean): Doc => ({ name, value: String(value) });

/** Seconds as a Go duration, the form kubeadm prints ("24h0m0s"). */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${h}h${m}m${seconds % 60}s`;
}

/** The node's registration: its name, containerd, the kubelet on the node's own address. */
function nodeRegistration(s: ControlPlaneSettings, node: NodeSettings): Doc {
  return {
    name: node.name,
    criSocket: CRI_SOCKET,
    kubeletExtraArgs: [arg("node-ip", node.address)],
    ignorePreflightErrors: s.ignorePreflightErrors.length > 0 ? s.ignorePreflightErrors : undefined,
  };
}

/** The first master's init-only settings, with the bootstrap token that every join uses. */
export function buildInitConfigurationV1beta4(
  s: ControlPlaneSettings,
  node: NodeSettings,
  token: string,
): Doc {
  return {
    apiVersion: KUBEADM_API_VERSION_V1BETA4,
    kind: "InitConfiguration",
    bootstrapTokens: [
      {
        token,
        description: `hakube HaControlPlane ${s.cluster} join token`,
        ttl: goDuration(BOOTSTRAP_TOKEN_TTL_SECONDS),
        usages: ["signing", "authentication"],
        groups: [BOOTSTRAP_TOKEN_GROUP],
      },
    ],
    localAPIEndpoint: { advertiseAddress: node.address, bindPort: s.bindPort },
    nodeRegistration: nodeRegistration(s, node),
  };
}

/** kube-apiserver's flags from hakube's options, then `apiServer.extraArgs` (sorted). */
export function apiServerExtraArgs(s: ControlPlaneSettings): Doc[] {
  const out: Doc[] = [];
  if (s.audit) {
    out.push(
      arg("audit-policy-file", AUDIT_POLICY_FILE),
      arg("audit-log-path", AUDIT_LOG_FILE),
      arg("audit-log-maxage", s.audit.maxAgeDays),
      arg("audit-log-maxbackup", s.audit.maxBackups),
      arg("audit-log-maxsize", s.audit.maxSizeMb),
    );
  }
  if (s.secretsEncryption) out.push(arg("encryption-provider-config", ENCRYPTION_CONFIG_FILE));
  if (s.oidc) {
    out.push(arg("oidc-issuer-url", s.oidc.issuerUrl), arg("oidc-client-id", s.oidc.clientId));
    if (s.oidc.usernameClaim !== undefined) out.push(arg("oidc-username-claim", s.oidc.usernameClaim));
    if (s.oidc.usernamePrefix !== undefined) out.push(arg("oidc-username-prefix", s.oidc.usernamePrefix));
    if (s.oidc.groupsClaim !== undefined) out.push(arg("oidc-groups-claim", s.oidc.groupsClaim));
    if (s.oidc.groupsPrefix !== undefined) out.push(arg("oidc-groups-prefix", s.oidc.groupsPrefix));
  }
  out.push(...s.apiServerExtraArgs.map(([k, v]) => arg(k, v)));
  return out;
}

function apiServerExtraVolumes(s: ControlPlaneSettings): Doc[] {
  const volumes: Doc[] = [];
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

/**
 * The cluster-wide configuration. kubeadm uploads it at init (ConfigMap kube-system/kubeadm-config) and
 * joining masters read it from there.
 * @param etcdEndpoints external etcd only: the client URLs, resolved
 */
export function buildClusterConfigurationV1beta4(
  s: ControlPlaneSettings,
  etcdEndpoints?: readonly string[],
): Doc {
  let etcd: Doc;
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
  const volumes = apiServerExtraVolumes(s);
  return {
    apiVersion: KUBEADM_API_VERSION_V1BETA4,
    kind: "ClusterConfiguration",
    clusterName: s.clusterName,
    kubernetesVersion: `v${s.kubernetesVersion}`,
    controlPlaneEndpoint: s.endpoint.hostPort,
    certificatesDir: PKI_DIR,
    encryptionAlgorithm: s.encryptionAlgorithm,
    networking: { dnsDomain: s.dnsDomain, serviceSubnet: s.serviceSubnet, podSubnet: s.podSubnet },
    etcd,
    apiServer: {
      certSANs: s.certSans,
      extraArgs: apiServerExtraArgs(s),
      extraVolumes: volumes.length > 0 ? volumes : undefined,
    },
    controllerManager: { extraArgs: [arg("leader-elect", true)] },
    scheduler: { extraArgs: [arg("leader-elect", true)] },
  };
}

/** The kubelets' shared configuration (uploaded at init): the systemd cgroup driver, as containerd is set up. */
export function buildKubeletConfiguration(): Doc {
  return {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    cgroupDriver: "systemd",
  };
}

/** What a joining node needs to find and trust the cluster. */
export interface DiscoveryParams {
  /** The bootstrap token, "[a-z0-9]{6}.[a-z0-9]{16}". Secret. */
  token: string;
  /** "sha256:<hex>" of the cluster CA's public key (see discoveryTokenCaCertHash). */
  caCertHash: string;
}

/** A join through the endpoint; `controlPlane` adds this node's API server (and stacked etcd member). */
export function buildJoinConfigurationV1beta4(
  s: ControlPlaneSettings,
  node: NodeSettings,
  discovery: DiscoveryParams,
  controlPlane: boolean,
): Doc {
  return {
    apiVersion: KUBEADM_API_VERSION_V1BETA4,
    kind: "JoinConfiguration",
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: s.endpoint.hostPort,
        token: discovery.token,
        caCertHashes: [discovery.caCertHash],
      },
    },
    nodeRegistration: nodeRegistration(s, node),
    controlPlane: controlPlane
      ? { localAPIEndpoint: { advertiseAddress: node.address, bindPort: s.bindPort } }
      : undefined,
  };
}

/** The first master's configuration file: InitConfiguration, ClusterConfiguration, KubeletConfiguration. */
export function renderInitConfigV1beta4(
  s: ControlPlaneSettings,
  node: NodeSettings,
  token: string,
  etcdEndpoints?: readonly string[],
): string {
  return toYamlDocuments([
    buildInitConfigurationV1beta4(s, node, token),
    buildClusterConfigurationV1beta4(s, etcdEndpoints),
    buildKubeletConfiguration(),
  ]);
}

/** A joining node's configuration file. */
export function renderJoinConfigV1beta4(
  s: ControlPlaneSettings,
  node: NodeSettings,
  discovery: DiscoveryParams,
  controlPlane: boolean,
): string {
  return toYamlDocuments([buildJoinConfigurationV1beta4(s, node, discovery, controlPlane)]);
}
