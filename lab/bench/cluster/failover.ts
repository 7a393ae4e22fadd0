/**
 * Part (b) of the cluster benchmark: the VIP holder is powered off after it took both leader leases
 * (kube-controller-manager and kube-scheduler), while reads go through the VIP every 50 ms and a
 * ConfigMap is written every 200 ms. Measured from the power-off (its link cut, ../onhost.ts powerCut): the
 * VIP on another host (`ip monitor` in every master), the first read and write that succeeded through the
 * new holder, the reads that failed, and each lease's new holder's acquire time (written by that holder,
 * on the clock the hosts share).
 */
import { Lab } from "../../hosts";
import { sleep, waitFor } from "../../hosts/run";
import { LEASES, moveLeasesTo, settledVipHolder } from "../../cluster";
import { KubeCredentials, readLease } from "../../kubeapi";
import { waitFollowers } from "../kube";
import { powerCut } from "../onhost";
import {
  ConfigMapWriter,
  errorsOf,
  failedCount,
  failureSummary,
  firstOkEnd,
  lastFailedStart,
  startReads,
} from "../requests";
import { VipWatch } from "../vip/monitor";

/** Before the fault, reads and writes run this long (a baseline, and the TLS paths warm). */
const PRE_FAULT_MS = 1000;
/** After both leases moved, the clients keep going until no read failed for this long. */
const QUIET_MS = 5000;
/** The clients run at least this long after the fault. */
const POST_FAULT_MIN_MS = 10_000;
/** Nothing of it may take longer (leases: kubeadm's 15 s, plus retries). */
const BOUND_MS = 90_000;

export interface FailoverFigures {
  vipMovedMs?: number;
  firstReadMs?: number;
  failedReads: number;
  /** The start of the last read that failed, after the fault (0: none failed). */
  lastFailedReadMs: number;
  reads: number;
  firstWriteMs?: number;
  failedWrites: number;
  /** Per lease: its new holder's acquireTime minus the power-off. */
  leaseMs: Partial<Record<(typeof LEASES)[number], number>>;
  /** The lease duration the cluster runs with (kubeadm's default: 15 s). */
  leaseDurationSeconds?: number;
  holder: string;
  errors: string[];
}

export async function holderPowerOff(
  lab: Lab,
  creds: KubeCredentials,
  vip: string,
  masters: readonly string[],
  log: (l: string) => void,
): Promise<FailoverFigures> {
  const holder = await settledVipHolder(lab, vip, 60_000);
  await moveLeasesTo(lab, creds, holder, masters);
  // The others' controller-manager and scheduler were stopped to hand over the leases: they must run
  // again (as followers, retrying) before the fault, or their start-up would count as re-election.
  const others = masters.filter((m) => m !== holder);
  await waitFollowers(lab, others, 120_000);
  const before = await readLease(creds, LEASES[0]);
  const watch = await VipWatch.start(lab, vip, "cluster", masters);
  const reads = startReads(creds);
  const writer = new ConfigMapWriter(creds, `bench-${Date.now()}`).start();
  try {
    await sleep(PRE_FAULT_MS);
    const { at: t0, cutMs } = await powerCut(lab, holder);
    if (cutMs > 100) log(`      (cutting ${holder}'s link took ${cutMs} ms)`);
    watch.dead(holder, t0);
    const leaseMs: FailoverFigures["leaseMs"] = {};
    await waitFor(
      "both leases on a survivor",
      async () => {
        for (const name of LEASES) {
          if (leaseMs[name] !== undefined) continue;
          const l = await readLease(creds, name);
          if (l?.holder && l.holder !== holder && l.acquiredAt !== undefined)
            leaseMs[name] = l.acquiredAt - t0;
        }
        return LEASES.every((n) => leaseMs[n] !== undefined);
      },
      BOUND_MS,
      250,
    );
    // Reads can fail for longer than the leases take (a kube-apiserver's etcd client can keep sending to
    // the dead member until its gRPC keepalive gives up on it): until they stop failing.
    await waitFor(
      `${QUIET_MS / 1000} s without a failed read`,
      async () => {
        const last = lastFailedStart(reads.results, t0);
        return Date.now() - Math.max(last ?? t0, t0) >= QUIET_MS && Date.now() - t0 >= POST_FAULT_MIN_MS;
      },
      BOUND_MS,
      250,
    );
    const end = Date.now();
    const { maxLagMs } = await reads.stop();
    const written = await writer.stop();
    const tl = await watch.stop();
    const moved = tl.firstAcquired(t0, holder);
    // A request that succeeds after the VIP moved went through the new holder: it was sent after the cut.
    const firstRead = moved === undefined ? undefined : firstOkEnd(reads.results, moved);
    const firstWrite = moved === undefined ? undefined : firstOkEnd(written, moved);
    const f: FailoverFigures = {
      holder,
      vipMovedMs: moved === undefined ? undefined : moved - t0,
      firstReadMs: firstRead === undefined ? undefined : firstRead - t0,
      failedReads: failedCount(reads.results, t0, end),
      lastFailedReadMs: (lastFailedStart(reads.results, t0) ?? t0) - t0,
      reads: reads.results.filter((r) => r.at >= t0 && r.at < end).length,
      firstWriteMs: firstWrite === undefined ? undefined : firstWrite - t0,
      failedWrites: failedCount(written, t0, end),
      leaseMs,
      leaseDurationSeconds: before?.leaseDurationSeconds,
      errors: [...errorsOf(reads.results, t0, end), ...errorsOf(written, t0, end)],
    };
    log(
      `      ${holder} powered off: VIP moved ${fmt(f.vipMovedMs)}, first read ${fmt(f.firstReadMs)}, ` +
        `${f.failedReads} of ${f.reads} reads failed (the last started at ${fmt(f.lastFailedReadMs)}), first write ${fmt(f.firstWriteMs)} (${f.failedWrites} failed), ` +
        `leases ${LEASES.map((n) => `${n} ${fmt(leaseMs[n])}`).join(", ")}` +
        (f.errors.length ? ` [${f.errors.slice(0, 3).join("; ")}]` : ""),
    );
    log(`      failed reads: ${failureSummary(reads.results, t0, end)}`);
    if (maxLagMs > 100) log(`      (this process stalled up to ${Math.round(maxLagMs)} ms)`);
    return f;
  } finally {
    await reads.stop();
    await writer.stop();
    await watch.stop().catch(() => undefined);
  }
}

const fmt = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`);
