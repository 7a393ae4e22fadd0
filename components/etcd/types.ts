import type { HostArgs, KnownHost } from "../hosts";
import type { InstallMethod } from "../install";
import type { CaKeyPairArgs } from "../pki/certificateAuthority";
import { KeyAlgorithm } from "../pki/profiles";
import type { EtcdBackupArgs, EtcdRestoreArgs } from "./backup";
import type { EtcdRestoreSettings } from "./render/restore";
import type { EtcdRecoverQuorumArgs, EtcdRecoverySettings } from "./recovery";
import type { EtcdDefragArgs } from "./defrag";

/** CPU architecture of the members, as etcd names its release tarballs. */
export const CpuArchitecture = {
  /** x86-64. The default. */
  Amd64: "amd64",
  /** 64-bit ARM. */
  Arm64: "arm64",
} as const;
export type CpuArchitecture = (typeof CpuArchitecture)[keyof typeof CpuArchitecture];

/**
 * Raft timing profiles (heartbeat / election timeout), measured side by side in BENCHMARKS.md ("etcd").
 * `heartbeatIntervalMs` and `electionTimeoutMs` override a profile's values.
 */
export const EtcdTimingProfile = {
  /** etcd's own defaults: heartbeat 100 ms, election timeout 1000 ms; a dead leader replaced in ~1.1 s on a LAN. */
  Upstream: "Upstream",
  /**
   * Heartbeat 100 ms, election timeout 500 ms, pre-vote on; a dead leader replaced in ~0.8 s on a LAN. For
   * members on one LAN (round trips well under 10 ms) with fast disks: a leader stalled for 0.5 s (a slow
   * fsync, a long pause, CPU starvation) loses its leadership.
   */
  Fast: "Fast",
  /** Heartbeat 250 ms, election timeout 5000 ms (kubespray's): WANs and slow disks; a dead leader costs ~5.5 s. */
  Wan: "Wan",
} as const;
export type EtcdTimingProfile = (typeof EtcdTimingProfile)[keyof typeof EtcdTimingProfile];

/** How etcd gets onto the members. */
export interface EtcdInstallArgs {
  /**
   * Release (the default): the official release tarball, its sha256 verified, etcd and etcdctl installed.
   * Package: the OS package manager (apt: etcd-server and etcd-client; dnf/yum: etcd), etcd 3.4 or later.
   * Preinstalled: etcd and etcdctl are already in `binDir` (golden images); only their version is checked.
   * @default InstallMethod.Release
   */
  method?: InstallMethod;
  /** Release only: where `v<version>/etcd-v<version>-linux-<arch>.tar.gz` lives. @default the etcd project's GitHub releases */
  baseUrl?: string;
  /**
   * Release only: the tarball's sha256 (64 hex digits). Nothing is installed if it differs. @default the
   * official sha256 for etcd 3.5.6 to 3.6.14 on amd64 and arm64 (components/etcd/checksums.ts); required
   * for other versions
   */
  sha256?: string;
  /** Release only. @default CpuArchitecture.Amd64 */
  arch?: CpuArchitecture;
  /** Where etcd and etcdctl are (or go). @default "/usr/local/bin" for release and preinstalled, "/usr/bin" for package */
  binDir?: string;
}

/** The members' leaf certificates (server, peer, client): key algorithm, validity and renewal. */
export interface EtcdCertificateArgs {
  /** The algorithm of the members' keys. @default the CA's algorithm, or KeyAlgorithm.EcdsaP256 */
  keyAlgorithm?: KeyAlgorithm;
  /** A whole number of hours, at least 1. @default 8760 (1 year) */
  validityHours?: number;
  /**
   * Less than `validityHours`: a `pulumi up` this close to expiry reissues and rolls out the certificates.
   * @default 2160 (90 days), or a quarter of `validityHours` when that is shorter
   */
  earlyRenewalHours?: number;
}

/** The args of an {@link EtcdCluster}. */
export interface EtcdClusterArgs {
  /**
   * The members: 3, 5 or 7 for production (quorum is floor(n/2)+1). Order matters: joins and removals go
   * one at a time in this order. Addresses may be Outputs (an EC2 instance's `privateIp`).
   */
  members: HostArgs[];
  /**
   * The etcd version for the `release` method ("3.5.21" or "v3.5.21"). Changing it upgrades the members
   * one at a time, leader last, each while the others keep quorum; a downgrade or a skipped minor is
   * refused on the hosts before anything changes. @default "3.5.21"
   */
  version?: string;
  /** How etcd gets onto the members. @default { method: InstallMethod.Release } (with the official sha256 of `version`) */
  install?: EtcdInstallArgs;
  /** The client port (TLS). @default 2379 */
  clientPort?: number;
  /** The peer port (TLS). @default 2380 */
  peerPort?: number;
  /** Loopback-only plain-HTTP /metrics and /health. @default 2381 */
  metricsPort?: number;
  /** The data directory on each member (mode 0700). @default "/var/lib/etcd" */
  dataDir?: string;
  /** The raft timing profile. @default EtcdTimingProfile.Upstream */
  timingProfile?: EtcdTimingProfile;
  /** Heartbeat interval in ms; overrides the profile's. @default 100 (the Upstream profile) */
  heartbeatIntervalMs?: number;
  /** Election timeout in ms, at least 5x the heartbeat; overrides the profile's. @default 1000 (the Upstream profile) */
  electionTimeoutMs?: number;
  /** An existing CA to sign with (a CertificateAuthority, or a certificate and key). @default a new CA "etcd-ca" */
  ca?: CaKeyPairArgs;
  /** Key algorithm, validity and renewal of the members' leaf certificates. */
  certificates?: EtcdCertificateArgs;
  /**
   * More etcd flags, without the leading dashes: { "auto-compaction-retention": "8" }. Flags that hakube
   * manages (names, URLs, TLS, cluster bootstrap, data dir, timings) are refused.
   */
  extraFlags?: { [flag: string]: string };
  /** How long host scripts and the final health gate wait for health. @default 180 */
  healthTimeoutSeconds?: number;
  /**
   * Scheduled snapshots: a systemd timer on every member, members taking turns; verified, sha256 beside
   * each, retention, optionally copied (and encrypted) off the host. @default none
   */
  backup?: EtcdBackupArgs;
  /**
   * Scheduled defragmentation: a systemd timer on every member, one member at a time, only while every
   * member is healthy. @default none
   */
  defrag?: EtcdDefragArgs;
  /**
   * Build the cluster from a snapshot: every member restores it with the new cluster's membership before
   * its first start. Refused on members that already have data unless `force`. @default none
   */
  restoreFrom?: EtcdRestoreArgs;
  /**
   * Lost quorum (a majority of the members gone for good): force a new cluster from the surviving member
   * `from` (its data kept), then every other member joins it again as a learner. Remove it once healthy.
   * @default none
   */
  recoverQuorum?: EtcdRecoverQuorumArgs;
}

/** EtcdClusterArgs once every member's address is known. */
export type KnownEtcdClusterArgs = Omit<EtcdClusterArgs, "members"> & { members: KnownHost[] };

/** What each member's scripts and files are rendered from: plain values, nothing unresolved. */
/** Install parameters, resolved. */
export interface EtcdInstallSettings {
  cluster: string;
  name: string;
  method: InstallMethod;
  binDir: string;
  dataDir: string;
  /** Release only. */
  version?: string;
  url?: string;
  sha256?: string;
  /** Release only: where a member with data stages the release for the upgrade step. */
  stageDir?: string;
}

export interface EtcdMemberSettings {
  cluster: string;
  name: string;
  address: string;
  clientPort: number;
  peerPort: number;
  metricsPort: number;
  dataDir: string;
  binDir: string;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  initialClusterToken: string;
  extraFlags: { [flag: string]: string };
  healthTimeoutSeconds: number;
  /**
   * Shown in the env file. Not the version: a version change is the upgrade step's (one member at a time,
   * leader last), never a configuration restart.
   */
  installMethod: InstallMethod;
  /** restoreFrom, resolved: the member script restores before the first start. */
  restore?: EtcdRestoreSettings;
  /** recoverQuorum, resolved: the survivor forces a new cluster, the others rejoin it. */
  recovery?: EtcdRecoverySettings;
}
