/**
 * Resolve EtcdClusterArgs into plain per-member settings (defaults applied). Pure: no Pulumi import.
 * Call only after validateEtcdClusterArgs found no errors.
 */
import {
  DEFAULT_CLIENT_PORT,
  DEFAULT_DATA_DIR,
  DEFAULT_HEALTH_TIMEOUT_SECONDS,
  DEFAULT_METRICS_PORT,
  DEFAULT_PACKAGE_BIN_DIR,
  DEFAULT_PEER_PORT,
  DEFAULT_RELEASE_BASE_URL,
  DEFAULT_RELEASE_BIN_DIR,
  DEFAULT_VERSION,
  ETCD_TIMING_PROFILES,
  UPGRADE_STAGE_DIR,
} from "./defaults";
import {
  CpuArchitecture,
  EtcdClusterArgs,
  EtcdInstallSettings,
  EtcdMemberSettings,
  EtcdTimingProfile,
  KnownEtcdClusterArgs,
} from "./types";
import { InstallMethod } from "../install";
import { officialEtcdSha256 } from "./checksums";
import { DEFAULT_BUMP_REVISION } from "./backup";
import { urlHost } from "../validation";

/** The URL of a release tarball: `<base>/v<version>/etcd-v<version>-linux-<arch>.tar.gz`. */
export function releaseUrl(baseUrl: string, version: string, arch: string): string {
  const v = version.replace(/^v/, "");
  return `${baseUrl.replace(/\/+$/, "")}/v${v}/etcd-v${v}-linux-${arch}.tar.gz`;
}

/** Where a member with data stages release `version` for the upgrade step. */
export function upgradeStageDir(version: string): string {
  return `${UPGRADE_STAGE_DIR}/v${version.replace(/^v/, "")}`;
}

/** The URLs of one member. */
export interface MemberUrls {
  client: string;
  peer: string;
}

export function memberUrls(address: string, clientPort: number, peerPort: number): MemberUrls {
  const host = urlHost(address);
  return { client: `https://${host}:${clientPort}`, peer: `https://${host}:${peerPort}` };
}

/** The restored cluster's token: the cluster's own plus the first 12 hex digits of the snapshot's hash. */
export function restoreToken(clusterToken: string, sha256: string): string {
  return `${clusterToken}-restore-${sha256.slice(0, 12)}`;
}

/** The raft timings of the args: the profile's, overridden by heartbeatIntervalMs and electionTimeoutMs. */
export function resolveEtcdTimings(
  args: Pick<EtcdClusterArgs, "timingProfile" | "heartbeatIntervalMs" | "electionTimeoutMs">,
): { heartbeatIntervalMs: number; electionTimeoutMs: number; preVote: boolean } {
  const profile =
    ETCD_TIMING_PROFILES[args.timingProfile ?? EtcdTimingProfile.Upstream] ?? ETCD_TIMING_PROFILES.Upstream;
  return {
    heartbeatIntervalMs: args.heartbeatIntervalMs ?? profile.heartbeatIntervalMs,
    electionTimeoutMs: args.electionTimeoutMs ?? profile.electionTimeoutMs,
    preVote: profile.preVote ?? false,
  };
}

export interface ResolvedEtcdCluster {
  install: Omit<EtcdInstallSettings, "name">;
  members: EtcdMemberSettings[];
}

/**
 * @param cluster the component name
 * @param token the initial cluster token: unique per stack and cluster, so two clusters that share
 *   hosts or a network during bootstrap never merge
 */
export function resolveEtcdCluster(
  cluster: string,
  args: KnownEtcdClusterArgs,
  token: string,
): ResolvedEtcdCluster {
  const method = args.install?.method ?? InstallMethod.Release;
  const binDir =
    args.install?.binDir ??
    (method === InstallMethod.Package ? DEFAULT_PACKAGE_BIN_DIR : DEFAULT_RELEASE_BIN_DIR);
  const dataDir = args.dataDir ?? DEFAULT_DATA_DIR;
  const version = (args.version ?? DEFAULT_VERSION).replace(/^v/, "");
  const install: Omit<EtcdInstallSettings, "name"> =
    method === InstallMethod.Release
      ? {
          cluster,
          method,
          binDir,
          dataDir,
          version,
          url: releaseUrl(
            args.install?.baseUrl ?? DEFAULT_RELEASE_BASE_URL,
            version,
            args.install?.arch ?? CpuArchitecture.Amd64,
          ),
          // The official sha256 (components/etcd/checksums.ts) unless the args give one.
          sha256:
            args.install?.sha256 ?? officialEtcdSha256(version, args.install?.arch ?? CpuArchitecture.Amd64),
          stageDir: upgradeStageDir(version),
        }
      : { cluster, method, binDir, dataDir };
  const survivor = args.recoverQuorum && args.members.find((m) => m.name === args.recoverQuorum!.from);
  const recovery = survivor && {
    from: survivor.name,
    fromUrl: memberUrls(
      survivor.address,
      args.clientPort ?? DEFAULT_CLIENT_PORT,
      args.peerPort ?? DEFAULT_PEER_PORT,
    ).client,
    id: args.recoverQuorum!.id ?? "1",
  };
  const timings = resolveEtcdTimings(args);
  const members = args.members.map((m): EtcdMemberSettings => ({
    cluster,
    name: m.name,
    address: m.address,
    clientPort: args.clientPort ?? DEFAULT_CLIENT_PORT,
    peerPort: args.peerPort ?? DEFAULT_PEER_PORT,
    metricsPort: args.metricsPort ?? DEFAULT_METRICS_PORT,
    dataDir,
    binDir,
    heartbeatIntervalMs: timings.heartbeatIntervalMs,
    electionTimeoutMs: timings.electionTimeoutMs,
    initialClusterToken: token,
    // The profile's pre-vote, unless extraFlags sets it (extraFlags wins).
    extraFlags: { ...(timings.preVote ? { "pre-vote": "true" } : {}), ...(args.extraFlags ?? {}) },
    healthTimeoutSeconds: args.healthTimeoutSeconds ?? DEFAULT_HEALTH_TIMEOUT_SECONDS,
    installMethod: method,
    ...(args.restoreFrom && {
      restore: {
        path: args.restoreFrom.path,
        sha256: args.restoreFrom.sha256,
        force: args.restoreFrom.force ?? false,
        token: restoreToken(token, args.restoreFrom.sha256),
        bumpRevision: args.restoreFrom.bumpRevision ?? DEFAULT_BUMP_REVISION,
      },
    }),
    ...(recovery && { recovery }),
  }));
  return { install, members };
}
