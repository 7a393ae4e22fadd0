/**
 * Cluster benchmark on the lab: real Kubernetes (v1.20.2) on three masters and a worker, each try from a
 * fresh lab. Side by side in one run, per profile (leader election x etcd topology, profiles.ts):
 *
 *   (a) the time to a Ready cluster, broken down by the lab runner's own log lines (phases.ts): hosts,
 *       endpoint and etcd, prepare, init, each join, the readiness gate, the pod network, every node Ready;
 *   (b) the VIP holder's power-off after it took both leader leases (failover.ts): VIP moved, first read
 *       and write, failed reads, lease re-election.
 *
 *   npm run bench -- cluster [--tries 5]
 *   HAKUBE_BENCH_CLUSTER_PROFILES=kubeadm/stacked npm run bench -- cluster --tries 1   # a subset
 */
import { createLab, destroyLab } from "../../hosts";
import { waitFor } from "../../hosts/run";
import { allNodesReady, LEASES } from "../../cluster";
import { readKubeconfig, readLease } from "../../kubeapi";
import { withLab } from "../cleanup";
import { guardedDeploy, repeatOnRace } from "../deployGuard";
import { Row } from "../stats";
import { FailoverFigures, holderPowerOff } from "./failover";
import { phaseTimes, readinessPhases, RunnerLog } from "./phases";
import { ClusterProfile, clusterProfiles } from "./profiles";

const LAB = "b-cluster";
const SUBNET = 12;
const MASTERS = ["m1", "m2", "m3"];
const WORKERS = ["m4"];
/** Every node Ready after the run, at most this long. */
const NODES_READY_BOUND_MS = 300_000;

interface TryFigures {
  phases: Record<string, number>;
  failover: FailoverFigures;
  /** Deploys thrown away before this one (kubernetes#99305, ../deployGuard.ts). */
  repeats?: number;
}

async function oneTry(p: ClusterProfile, log: (l: string) => void): Promise<TryFigures> {
  await destroyLab(LAB);
  const h0 = Date.now();
  await createLab({
    name: LAB,
    hosts: MASTERS.length + WORKERS.length,
    subnetIndex: SUBNET,
    kubernetes: true,
  });
  const hostsMs = Date.now() - h0;
  const runner = new RunnerLog();
  const d = await guardedDeploy({
    ...p.leaderElection.deploy,
    lab: LAB,
    subnetIndex: SUBNET,
    masters: MASTERS.length,
    workers: WORKERS.length,
    etcd: p.etcd,
    log: runner.log,
  }).catch((e: Error) => {
    throw new Error(`${e.message}\n  runner's last lines:\n    ${runner.tail.join("\n    ")}`);
  });
  const creds = readKubeconfig(d.api!.kubeconfig);
  const nodes = [...d.masters, ...d.workers];
  await waitFor("every node Ready", () => allNodesReady(creds, nodes), NODES_READY_BOUND_MS, 250);
  const phases = phaseTimes(runner, "k8s", d.masters, d.workers, hostsMs, Date.now());
  log(
    `    ${p.id}: ${readinessPhases(d.masters, d.workers)
      .filter((x) => phases[x.key] !== undefined)
      .map((x) => `${x.key} ${(phases[x.key] / 1000).toFixed(1)} s`)
      .join(", ")}`,
  );
  const lease = await readLease(creds, LEASES[0]);
  if (lease?.leaseDurationSeconds !== p.leaderElection.leaseDurationSeconds)
    throw new Error(
      `${p.id}: the cluster's lease lasts ${lease?.leaseDurationSeconds} s, the profile says ${p.leaderElection.leaseDurationSeconds} s`,
    );
  const failover = await holderPowerOff(d.lab, creds, d.api!.vip, d.masters, log);
  return { phases, failover };
}

const FAILOVER_METRICS: Array<{
  label: string;
  unit: string;
  of: (f: FailoverFigures) => number | undefined;
}> = [
  { label: "holder powered off -> VIP on another master", unit: "s", of: (f) => f.vipMovedMs },
  { label: "holder powered off -> first successful read", unit: "s", of: (f) => f.firstReadMs },
  {
    label: "reads failed (one every 50 ms, until both leases moved and 5 s passed without a failed read)",
    unit: "reads",
    of: (f) => f.failedReads,
  },
  {
    label: "holder powered off -> start of the last failed read (0: none failed)",
    unit: "s",
    of: (f) => f.lastFailedReadMs,
  },
  {
    label: "holder powered off -> first successful write (POST every 200 ms)",
    unit: "s",
    of: (f) => f.firstWriteMs,
  },
  {
    label: "holder powered off -> kube-controller-manager lease re-elected",
    unit: "s",
    of: (f) => f.leaseMs["kube-controller-manager"],
  },
  {
    label: "holder powered off -> kube-scheduler lease re-elected",
    unit: "s",
    of: (f) => f.leaseMs["kube-scheduler"],
  },
];

export async function benchCluster(tries: number, log: (l: string) => void): Promise<Row[]> {
  const profiles = clusterProfiles();
  const figures = new Map<string, TryFigures[]>();
  const started = Date.now();
  await withLab(LAB, async () => {
    for (let i = 1; i <= tries; i++) {
      // Profiles interleaved: a slow spell of the machine does not fall on one profile's tries only.
      for (const p of profiles) {
        const t0 = Date.now();
        log(`  ${p.id} try ${i}/${tries}`);
        const { value: f, repeats } = await repeatOnRace(() => oneTry(p, log), log);
        figures.set(p.id, [...(figures.get(p.id) ?? []), { ...f, repeats }]);
        log(`  ${p.id} try ${i}/${tries} took ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
      }
    }
  });
  log(`suite cluster: done in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  const phases = readinessPhases(MASTERS, WORKERS);
  const readiness: Row[] = phases.flatMap((ph) =>
    profiles.map((p) => ({
      metric: `(a) ${ph.label}`,
      profile: p.name,
      unit: "s",
      samples: figures
        .get(p.id)!
        .map((f) => f.phases[ph.key])
        .filter((v) => v !== undefined),
    })),
  );
  const failover: Row[] = FAILOVER_METRICS.flatMap((m) =>
    profiles.map((p) => ({
      metric: `(b) ${m.label}`,
      profile: p.name,
      unit: m.unit,
      samples: figures
        .get(p.id)!
        .map((f) => m.of(f.failover))
        .filter((v): v is number => v !== undefined),
    })),
  );
  const repeated: Row[] = profiles.map((p) => ({
    metric: "(a) deploys thrown away before the try's own: etcd static pod refused (kubernetes#99305)",
    profile: p.name,
    unit: "deploys",
    samples: figures.get(p.id)!.map((f) => f.repeats ?? 0),
  }));
  return [...readiness, ...repeated, ...failover];
}
