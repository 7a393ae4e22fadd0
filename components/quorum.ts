/**
 * Raft quorum arithmetic, as etcd documents it: a cluster of n voting members needs floor(n/2)+1 of them
 * to agree, so it survives floor((n-1)/2) failures. Pure: no Pulumi import.
 */

/** Members that must be up for a cluster of `members` voters to accept writes: floor(n/2)+1. */
export function quorumSize(members: number): number {
  assertCount(members);
  return Math.floor(members / 2) + 1;
}

/** Members that may fail while the cluster keeps quorum: n - quorumSize(n). 1 and 2 members tolerate none. */
export function faultTolerance(members: number): number {
  return members - quorumSize(members);
}

/** One line that states the tolerance, used in warnings and docs. */
export function describeQuorum(members: number): string {
  const q = quorumSize(members);
  const f = faultTolerance(members);
  const one = members === 1;
  const failures = f === 0 ? "no failure" : `${f} failure${f === 1 ? "" : "s"}`;
  return `${members} member${one ? " needs" : "s need"} a quorum of ${q} and tolerate${one ? "s" : ""} ${failures}`;
}

function assertCount(members: number): void {
  if (!Number.isInteger(members) || members < 1) {
    throw new RangeError(`member count must be a positive integer, got ${members}`);
  }
}
