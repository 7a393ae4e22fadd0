/**
 * The facts each component registers as its properties (`super(type, name, facts, opts)`): what a policy
 * pack sees of a component (hakube's own is in policy/), since a component's args are not sent to the
 * engine otherwise. Counts, flags and kinds after defaults only: never a secret, a key, an address or
 * anything else from a host's connection. Pure: no imports.
 */

/** What an EtcdCluster registers. */
export interface EtcdClusterFacts {
  /** How many members the cluster has (`members.length`): quorum is floor(n/2)+1. */
  memberCount: number;
}

/** What a HaControlPlane registers. */
export interface HaControlPlaneFacts {
  /** How many masters (`masters.length`); with stacked etcd, also the etcd member count. */
  masterCount: number;
  /** "stacked" (kubeadm's etcd on the masters) or "external" (`etcd.topology`, after its default). */
  etcdTopology: string;
  /** Secrets are encrypted at rest in etcd (`apiServer.secretsEncryption.enabled`, after its default). */
  secretsEncryption: boolean;
  /** Every API server writes an audit log (`apiServer.audit.enabled`, after its default). */
  auditLog: boolean;
}

/** What a KeepalivedVip registers. */
export interface KeepalivedVipFacts {
  /** "apiServer", "haproxy" or "none" (`healthCheck.kind`, after its default): what a holder must pass. */
  healthCheckKind: string;
}

/** The length of a list the validators have not seen yet (facts are registered before validation). */
export function countOf(list: unknown): number {
  return Array.isArray(list) ? list.length : 0;
}
