/** Types the aws and bare-metal stacks share. Type-only: no resources here. */
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
