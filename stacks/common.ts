/** Types and plain helpers the aws and bare-metal stacks share. No resources are made here. */
import * as hakube from "../index";

/** The Kubernetes settings both stacks pass through to HaControlPlane. */
export type ClusterArgs = Pick<
  hakube.HaControlPlaneArgs,
  "kubernetesVersion" | "podSubnet" | "serviceSubnet" | "install" | "cni"
>;

/**
 * Where etcd runs: stacked on the masters (the default), or an EtcdCluster on its own hosts
 * (aws: `etcdCount` instances; bare metal: `etcdHosts`).
 */
export interface EtcdStackArgs {
  /** @default hakube.EtcdTopology.Stacked */
  topology?: hakube.EtcdTopology;
  /** External only: EtcdCluster's version. @default EtcdCluster's */
  version?: string;
  /** External only. @default EtcdCluster's (release, which needs `sha256`) */
  install?: hakube.EtcdInstallArgs;
}

/** HaControlPlane's `etcd` for an EtcdCluster on its own hosts; undefined (stacked etcd) without one. */
export function externalEtcd(etcd: hakube.EtcdCluster | undefined): hakube.ControlPlaneEtcdArgs | undefined {
  return etcd
    ? {
        topology: hakube.EtcdTopology.External,
        endpoints: etcd.clientEndpoints,
        caCertPem: etcd.caCertPem,
        clientCertPem: etcd.clientCertPem,
        clientKeyPem: etcd.clientKeyPem,
      }
    : undefined;
}
