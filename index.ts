// hakube: Pulumi components for a highly available Kubernetes control plane. Public API only.
export { ConnectionArgs, HostArgs, ProxyConnectionArgs } from "./components/hosts";
export { quorumSize, faultTolerance, describeQuorum } from "./components/quorum";
export {
  CaKeyPairArgs,
  CertificateAuthority,
  CertificateAuthorityArgs,
  CertificateRequestArgs,
  IssuedCertificate,
  issueCertificate,
} from "./components/pki/certificateAuthority";
export { CertificateRole, KeyAlgorithm } from "./components/pki/profiles";
export { EtcdCluster } from "./components/etcd/etcdCluster";
export {
  CpuArchitecture,
  EtcdCertificateArgs,
  EtcdClusterArgs,
  EtcdInstallArgs,
  EtcdTimingProfile,
} from "./components/etcd/types";
export {
  EtcdBackupArgs,
  EtcdBackupCopyToArgs,
  EtcdBackupEncryptionArgs,
  EtcdBackupS3Args,
  EtcdRestoreArgs,
} from "./components/etcd/backup";
export { EtcdRecoverQuorumArgs } from "./components/etcd/recovery";
export { EtcdDefragArgs } from "./components/etcd/defrag";
export { KeepalivedVip } from "./components/keepalived/keepalivedVip";
export {
  KeepalivedMemberArgs,
  KeepalivedVipArgs,
  VipHealthCheckArgs,
  VipHealthCheckKind,
  VrrpTimingArgs,
  VrrpTimingProfile,
  VrrpTransport,
} from "./components/keepalived/types";
export { LoadBalancer } from "./components/loadbalancer/loadBalancer";
export {
  AwsNlbArgs,
  AwsNlbHealthCheckArgs,
  AwsNlbScheme,
  AwsNlbTargetArgs,
  AwsNlbTargetType,
  HaproxyArgs,
  HaproxyCheckArgs,
  LoadBalancerArgs,
  LoadBalancerBackendArgs,
  LoadBalancerKind,
} from "./components/loadbalancer/types";
export { InstallMethod, PackageInstallArgs } from "./components/install";
/**
 * The names the install method had per component before there was one; the same {@link InstallMethod}.
 * @deprecated use InstallMethod
 */
export {
  InstallMethod as EtcdInstallMethod,
  InstallMethod as KubernetesInstallMethod,
  InstallMethod as PackageInstallMethod,
} from "./components/install";
export { HaControlPlane } from "./components/controlplane/haControlPlane";
export {
  ApiServerArgs,
  AuditArgs,
  CniArgs,
  CniKind,
  ControlPlaneEtcdArgs,
  EtcdTopology,
  HaControlPlaneArgs,
  KubernetesBinarySha256Args,
  KubernetesInstallArgs,
  LeaderElectionArgs,
  LeaderElectionProfile,
  OidcArgs,
  SecretsEncryptionArgs,
  SecretsEncryptionProvider,
} from "./components/controlplane/types";
export { discoveryTokenCaCertHash } from "./components/controlplane/discovery";
