/**
 * The no-fault side of the leader-election trade-off: with every master under heavy CPU load (busy loops
 * in every host, on a machine with 2 cores), how often do the controller-manager and scheduler leases
 * change hands although nothing failed? A shorter lease and renew deadline move faster after a death and
 * risk exactly this: a leader that cannot renew in time under load loses the lease (and restarts).
 */
import { Lab } from "../../hosts";
import { sleep } from "../../hosts/run";
import { LEASES } from "../../cluster";
import { KubeCredentials, readLease } from "../../kubeapi";
import { cpuLoad } from "../onhost";

/** How long the load runs, and how many busy loops each master gets. */
export const LOAD_SECONDS = 60;
export const LOAD_BURNERS = 2;

/** Lease changes of hands during LOAD_SECONDS of load (both leases together), or undefined if unreadable. */
export async function spuriousElections(
  lab: Lab,
  creds: KubeCredentials,
  masters: readonly string[],
): Promise<number | undefined> {
  const count = async () => {
    const ls = await Promise.all(LEASES.map((n) => readLease(creds, n)));
    return ls.every((l) => l !== undefined) ? ls.reduce((s, l) => s + l!.transitions, 0) : undefined;
  };
  const before = await count();
  const unload = await cpuLoad(lab, masters, LOAD_SECONDS + 5, LOAD_BURNERS);
  try {
    await sleep(LOAD_SECONDS * 1000);
  } finally {
    await unload();
  }
  // A lease lost at the end of the load is renewed by someone within a lease duration.
  await sleep(20_000);
  const after = await count();
  return before === undefined || after === undefined ? undefined : after - before;
}
