/**
 * The documents of kubeadm's configuration file (InitConfiguration, ClusterConfiguration, JoinConfiguration,
 * and the kubelet's and kube-proxy's own configuration), laid out the same in every kubeadm API version but
 * for what a {@link KubeadmDialect} says: the apiVersion, how extra arguments are written, how the key
 * algorithm is. Each render/kubeadm.<version>.ts is one dialect and exports one {@link KubeadmRenderer}.
 * Only fields that exist in kubeadm v1beta2, v1beta3 and v1beta4 alike are written here; the rest is the
 * dialects' (tests/unit/kubeadm-api-fields.test.ts checks every written field against kubeadm's published
 * types). Pure: `build*` returns the objects, `render*` the YAML; no Pulumi import.
 */
import { ControlPlaneSettings, NodeSettings } from "../types";
import type { CgroupDriver, KubeadmApiVersion } from "../versions";
import {
  ArgPairs,
  buildKubeadmCluster,
  buildKubeadmInit,
  buildKubeadmInitFile,
  buildKubeadmJoin,
  DiscoveryParams,
  KubeadmCluster,
  KubeadmInit,
  KubeadmJoin,
  KubeadmNodeRegistration,
} from "./kubeadm.model";
import { toYamlDocuments, YamlValue } from "./yaml";

/** How one kubeadm API version writes what differs between the versions. */
export interface KubeadmDialect<Args extends YamlValue, Key extends { [field: string]: YamlValue }> {
  apiVersion: `kubeadm.k8s.io/${KubeadmApiVersion}`;
  /** Extra command-line arguments, in order (a map in v1beta2 and v1beta3, a list in v1beta4). */
  args(pairs: ArgPairs): Args;
  /** ClusterConfiguration's fields for kubeadm's name of the key algorithm ("ECDSA-P256", ...). */
  keyAlgorithm(name: string): Key;
}

/** A host directory mounted into a control-plane pod (HostPathMount, the same in every version). */
export type HostPathMount = {
  name: string;
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
  pathType: string;
};

/** Where a node's own API server listens. */
export type APIEndpoint = { advertiseAddress: string; bindPort: number };

/** How a node registers, with its kubelet's extra arguments in the version's form. */
export type NodeRegistrationOptions<Args> = {
  name: string;
  criSocket: string;
  kubeletExtraArgs: Args;
  ignorePreflightErrors?: string[];
};

/** The first master's own document. */
export type InitConfiguration<Args> = {
  apiVersion: string;
  kind: "InitConfiguration";
  bootstrapTokens: Array<{
    token: string;
    description: string;
    ttl: string;
    usages: string[];
    groups: string[];
  }>;
  localAPIEndpoint: APIEndpoint;
  nodeRegistration: NodeRegistrationOptions<Args>;
};

/** The cluster-wide document; `Key` is the version's form of the key algorithm. */
export type ClusterConfiguration<Args, Key> = {
  apiVersion: string;
  kind: "ClusterConfiguration";
  clusterName: string;
  kubernetesVersion: string;
  controlPlaneEndpoint: string;
  certificatesDir: string;
  imageRepository: string;
  dns?: { imageRepository: string };
} & Key & {
    networking: { dnsDomain: string; serviceSubnet: string; podSubnet: string };
    etcd:
      | { local: { dataDir: string } }
      | { external: { endpoints: string[]; caFile: string; certFile: string; keyFile: string } };
    apiServer: { certSANs: string[]; extraArgs: Args; extraVolumes?: HostPathMount[] };
    controllerManager: { extraArgs: Args };
    scheduler: { extraArgs: Args };
  };

/** A joining node's document. */
export type JoinConfiguration<Args> = {
  apiVersion: string;
  kind: "JoinConfiguration";
  discovery: { bootstrapToken: { apiServerEndpoint: string; token: string; caCertHashes: string[] } };
  nodeRegistration: NodeRegistrationOptions<Args>;
  controlPlane?: { localAPIEndpoint: APIEndpoint };
};

/** The kubelets' shared configuration (kubelet.config.k8s.io/v1beta1, in every kubeadm version). */
export type KubeletConfiguration = {
  apiVersion: "kubelet.config.k8s.io/v1beta1";
  kind: "KubeletConfiguration";
  cgroupDriver: CgroupDriver;
};

/** kube-proxy's configuration (kubeproxy.config.k8s.io/v1alpha1, in every kubeadm version). */
export type KubeProxyConfiguration = {
  apiVersion: "kubeproxy.config.k8s.io/v1alpha1";
  kind: "KubeProxyConfiguration";
  conntrack: { maxPerCore: number };
};

/** One kubeadm API version's typed documents (`build*`) and configuration files (`render*`). */
export interface KubeadmRenderer<Args, Key> {
  apiVersion: string;
  /** The first master's init-only settings, with the bootstrap token that every join uses. */
  buildInitConfiguration(s: ControlPlaneSettings, node: NodeSettings, token: string): InitConfiguration<Args>;
  /** @param etcdEndpoints external etcd only: the client URLs, resolved */
  buildClusterConfiguration(
    s: ControlPlaneSettings,
    etcdEndpoints?: readonly string[],
  ): ClusterConfiguration<Args, Key>;
  /** A join through the endpoint; `controlPlane` adds this node's API server (and stacked etcd member). */
  buildJoinConfiguration(
    s: ControlPlaneSettings,
    node: NodeSettings,
    discovery: DiscoveryParams,
    controlPlane: boolean,
  ): JoinConfiguration<Args>;
  /** The first master's file: Init-, Cluster-, KubeletConfiguration, and KubeProxyConfiguration if any. */
  renderInitConfig(
    s: ControlPlaneSettings,
    node: NodeSettings,
    token: string,
    etcdEndpoints?: readonly string[],
  ): string;
  /** A joining node's file. */
  renderJoinConfig(
    s: ControlPlaneSettings,
    node: NodeSettings,
    discovery: DiscoveryParams,
    controlPlane: boolean,
  ): string;
}

/** Seconds as a Go duration, the form kubeadm prints ("24h0m0s"). */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${h}h${m}m${seconds % 60}s`;
}

/** The kubelets' shared configuration (uploaded at init): the cgroup driver containerd is set up with. */
export function buildKubeletConfiguration(cgroupDriver: CgroupDriver): KubeletConfiguration {
  return { apiVersion: "kubelet.config.k8s.io/v1beta1", kind: "KubeletConfiguration", cgroupDriver };
}

/** kube-proxy's configuration: conntrack maxPerCore 0 leaves nf_conntrack_max as it is. */
export function buildKubeProxyConfiguration(conntrackMaxPerCore: number): KubeProxyConfiguration {
  return {
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    conntrack: { maxPerCore: conntrackMaxPerCore },
  };
}

/** The renderer of one kubeadm API version, from its dialect. */
export function kubeadmRenderer<Args extends YamlValue, Key extends { [field: string]: YamlValue }>(
  d: KubeadmDialect<Args, Key>,
): KubeadmRenderer<Args, Key> {
  const registration = (r: KubeadmNodeRegistration): NodeRegistrationOptions<Args> => ({
    name: r.name,
    criSocket: r.criSocket,
    kubeletExtraArgs: d.args(r.kubeletExtraArgs),
    ignorePreflightErrors: r.ignorePreflightErrors.length > 0 ? [...r.ignorePreflightErrors] : undefined,
  });
  const init = (m: KubeadmInit): InitConfiguration<Args> => ({
    apiVersion: d.apiVersion,
    kind: "InitConfiguration",
    bootstrapTokens: [
      {
        token: m.bootstrapToken.token,
        description: m.bootstrapToken.description,
        ttl: goDuration(m.bootstrapToken.ttlSeconds),
        usages: [...m.bootstrapToken.usages],
        groups: [...m.bootstrapToken.groups],
      },
    ],
    localAPIEndpoint: { ...m.localAPIEndpoint },
    nodeRegistration: registration(m.nodeRegistration),
  });
  const cluster = (c: KubeadmCluster): ClusterConfiguration<Args, Key> => ({
    apiVersion: d.apiVersion,
    kind: "ClusterConfiguration",
    clusterName: c.clusterName,
    kubernetesVersion: c.kubernetesVersion,
    controlPlaneEndpoint: c.controlPlaneEndpoint,
    certificatesDir: c.certificatesDir,
    imageRepository: c.imageRepository,
    dns: c.corednsImageRepository ? { imageRepository: c.corednsImageRepository } : undefined,
    ...d.keyAlgorithm(c.keyAlgorithm),
    networking: { ...c.networking },
    etcd: "local" in c.etcd ? { local: { ...c.etcd.local } } : { external: { ...c.etcd.external } },
    apiServer: {
      certSANs: [...c.apiServer.certSANs],
      extraArgs: d.args(c.apiServer.extraArgs),
      extraVolumes:
        c.apiServer.extraVolumes.length > 0 ? c.apiServer.extraVolumes.map((v) => ({ ...v })) : undefined,
    },
    controllerManager: { extraArgs: d.args(c.controllerManagerExtraArgs) },
    scheduler: { extraArgs: d.args(c.schedulerExtraArgs) },
  });
  const join = (m: KubeadmJoin): JoinConfiguration<Args> => ({
    apiVersion: d.apiVersion,
    kind: "JoinConfiguration",
    discovery: { bootstrapToken: { ...m.discovery, caCertHashes: [...m.discovery.caCertHashes] } },
    nodeRegistration: registration(m.nodeRegistration),
    controlPlane: m.controlPlane ? { localAPIEndpoint: { ...m.controlPlane.localAPIEndpoint } } : undefined,
  });
  return {
    apiVersion: d.apiVersion,
    buildInitConfiguration: (s, node, token) => init(buildKubeadmInit(s, node, token)),
    buildClusterConfiguration: (s, etcdEndpoints) => cluster(buildKubeadmCluster(s, etcdEndpoints)),
    buildJoinConfiguration: (s, node, discovery, controlPlane) =>
      join(buildKubeadmJoin(s, node, discovery, controlPlane)),
    renderInitConfig: (s, node, token, etcdEndpoints) => {
      const m = buildKubeadmInitFile(s, node, token, etcdEndpoints);
      return toYamlDocuments([
        init(m.init),
        cluster(m.cluster),
        buildKubeletConfiguration(m.kubelet.cgroupDriver),
        ...(m.kubeProxy ? [buildKubeProxyConfiguration(m.kubeProxy.conntrackMaxPerCore)] : []),
      ]);
    },
    renderJoinConfig: (s, node, discovery, controlPlane) =>
      toYamlDocuments([join(buildKubeadmJoin(s, node, discovery, controlPlane))]),
  };
}
