/**
 * The cluster benchmark's profiles: leader election of kube-controller-manager and kube-scheduler, times
 * the etcd topology. Every profile runs side by side in one run.
 */
import { LEADER_ELECTION_PROFILES as TIMINGS } from "../../../components/controlplane/defaults";
import { LeaderElectionProfile as Profile } from "../../../components/controlplane/types";
import type { DeployOptions } from "../../deploy";
import { selectProfiles } from "../select";

export interface LeaderElectionProfile {
  id: string;
  /** As shown in the table (lease duration / renew deadline / retry period). */
  name: string;
  /** The lease duration the cluster must show (checked on the lease itself after the deploy). */
  leaseDurationSeconds: number;
  /** What deploy() needs to select it (nothing: kubeadm's defaults). */
  deploy: Partial<DeployOptions>;
}

const fast = TIMINGS[Profile.Fast]!;

export const LEADER_ELECTION_PROFILES: LeaderElectionProfile[] = [
  {
    id: "kubeadm",
    name: "kubeadm leader election (15/10/2 s)",
    leaseDurationSeconds: 15,
    deploy: {},
  },
  {
    id: "fast",
    name: `hakube Fast leader election (${fast.leaseDurationSeconds}/${fast.renewDeadlineSeconds}/${fast.retryPeriodSeconds} s)`,
    leaseDurationSeconds: fast.leaseDurationSeconds,
    deploy: { leaderElection: Profile.Fast },
  },
];

export const ETCD_TOPOLOGIES = ["external", "stacked"] as const;
export type EtcdTopology = (typeof ETCD_TOPOLOGIES)[number];

/** One column of the run: a leader-election profile with an etcd topology. */
export interface ClusterProfile {
  id: string;
  name: string;
  leaderElection: LeaderElectionProfile;
  etcd: EtcdTopology;
}

export const ETCD_NAMES: Record<EtcdTopology, string> = {
  external: "external etcd",
  stacked: "stacked etcd",
};

/** Every profile, or those HAKUBE_BENCH_CLUSTER_PROFILES names ("kubeadm/external,fast/stacked"). */
export function clusterProfiles(): ClusterProfile[] {
  const all = LEADER_ELECTION_PROFILES.flatMap((le) =>
    ETCD_TOPOLOGIES.map((etcd) => ({
      id: `${le.id}/${etcd}`,
      name: `${le.name}, ${ETCD_NAMES[etcd]}`,
      leaderElection: le,
      etcd,
    })),
  );
  return selectProfiles(all, "HAKUBE_BENCH_CLUSTER_PROFILES");
}
