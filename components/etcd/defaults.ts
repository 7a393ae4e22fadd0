import type { EtcdTimingProfile } from "./types";

/** EtcdCluster defaults, each with where the number comes from. Pure: no Pulumi import. */

/** etcd's IANA-registered client port. */
export const DEFAULT_CLIENT_PORT = 2379;
/** etcd's IANA-registered peer port. */
export const DEFAULT_PEER_PORT = 2380;
/** Plain-HTTP /metrics and /health on loopback only, as kubeadm configures (--listen-metrics-urls). */
export const DEFAULT_METRICS_PORT = 2381;
/** The data directory most distributions and kubeadm use. */
export const DEFAULT_DATA_DIR = "/var/lib/etcd";
/**
 * Raft timings: etcd's upstream defaults (docs "Tuning": heartbeat 100 ms, election 1000 ms). Measured here
 * (docs/measured-facts.md): 3 members form in ~1 s and a killed leader is replaced in ~1.6 s. kubespray
 * uses 250/5000 for slow disks and WANs; raise them for links with a round trip over ~50 ms.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 100;
export const DEFAULT_ELECTION_TIMEOUT_MS = 1000;
/**
 * The timing profiles (types.ts EtcdTimingProfile). Measured in the lab (BENCHMARKS.md "etcd", 3 tries
 * each): the leader's link cut to a survivor elected 1.14 s (Upstream), 0.78 s (Fast), 5.41 s (Wan,
 * kubespray's values), with no election in 30 s of heavy CPU load in any. Pre-vote (etcd's default from 3.5,
 * off in 3.4) keeps a member that lost contact from disrupting a healthy leader when it returns; Fast sets
 * it so that 3.4 members get it too.
 */
export const ETCD_TIMING_PROFILES: Record<
  EtcdTimingProfile,
  { heartbeatIntervalMs: number; electionTimeoutMs: number; preVote?: boolean }
> = {
  Upstream: {
    heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
    electionTimeoutMs: DEFAULT_ELECTION_TIMEOUT_MS,
  },
  Fast: { heartbeatIntervalMs: 100, electionTimeoutMs: 500, preVote: true },
  Wan: { heartbeatIntervalMs: 250, electionTimeoutMs: 5000 },
};
/** etcd's own rule (docs "Tuning"): the election timeout should be at least 5x the heartbeat interval. */
export const MIN_ELECTION_TO_HEARTBEAT_RATIO = 5;
/** etcd's hard limit on --election-timeout. */
export const MAX_ELECTION_TIMEOUT_MS = 50000;
/** The etcd release installed by the `release` method unless `version` says otherwise. */
export const DEFAULT_VERSION = "3.5.21";
/** Learners (`member add --learner`, `member promote`) exist from etcd 3.4 on; hakube relies on them. */
export const MIN_VERSION = [3, 4] as const;
/** Where the etcd project publishes release tarballs. */
export const DEFAULT_RELEASE_BASE_URL = "https://github.com/etcd-io/etcd/releases/download";
/** Binaries from a release go here; packages put them in /usr/bin. */
export const DEFAULT_RELEASE_BIN_DIR = "/usr/local/bin";
export const DEFAULT_PACKAGE_BIN_DIR = "/usr/bin";
/**
 * How long a host script waits for a member to become healthy (join, restart) and the health gate waits
 * for the whole cluster. Formation takes ~1 s here; the margin covers slow disks and package installs.
 */
export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 180;
/**
 * How long a removal or upgrade looks again at the other members before it refuses for want of healthy
 * ones or of quorum. etcd 3.4's /health needs a leader, so an election fails it on every member for a
 * moment: seen in the lab, where a removal that ran right after another's found no healthy member (most
 * likely the election after the removed member, then leader, left). An election takes 1-2 election
 * timeouts (1 s each by default); 15 s covers a loaded host.
 */
export const ELECTION_SETTLE_SECONDS = 15;
/** Odd sizes up to 7: beyond that, write latency grows and etcd's docs advise against it. */
export const MAX_RECOMMENDED_MEMBERS = 7;

/** Paths on every member. */
export const CONFIG_DIR = "/etc/etcd";
export const PKI_DIR = "/etc/etcd/pki";
export const ENV_FILE = "/etc/etcd/etcd.env";
/** Written by the member script: the initial cluster and its state, read by etcd only on first start. */
export const CLUSTER_ENV_FILE = "/etc/etcd/cluster.env";
/** The member roster (name, peer URL, client URL per line) that host scripts use to find the others. */
export const ROSTER_FILE = "/etc/etcd/roster";
export const UNIT_FILE = "/etc/systemd/system/etcd.service";
/**
 * Where the install step stages a new release on a member that already has data (an upgrade), as
 * `<dir>/v<version>/{etcd,etcdctl,etcdutl}`, for the upgrade step to put in place one member at a time.
 */
export const UPGRADE_STAGE_DIR = "/var/lib/hakube/etcd-upgrade";
