/**
 * Cluster benchmark on the lab: real Kubernetes (v1.20.2) on three masters and a worker. Side by side in
 * one run, per profile (leader election x etcd topology, profiles.ts), interleaved:
 *
 *   (a) per deploy, from a fresh lab: the time to a Ready cluster, broken down by the lab runner's own log
 *       lines (phases.ts): hosts, endpoint and etcd, prepare, init, each join, the readiness gate, the pod
 *       network, every node Ready;
 *   (b) per deploy, no fault: lease changes of hands during a minute of heavy CPU load (load.ts);
 *   (c) FAILOVERS_PER_DEPLOY times per deploy: the VIP holder's power-off after it took both leader
 *       leases (failover.ts): VIP moved, first read and write, failed reads, lease re-election; then the
 *       holder is powered on again and the cluster must be steady (every API server and node ready) before
 *       the next one.
 *
 * `--tries N` is the number of failovers per profile (at least N); deploys per profile: N / FAILOVERS_PER_DEPLOY, rounded up.
 *
 *   npm run bench -- cluster [--tries 5]
 *   HAKUBE_BENCH_CLUSTER_PROFILES=kubeadm/stacked npm run bench -- cluster --tries 1   # a subset
 */
import { createLab, destroyLab, loadLab, powerOn } from "../../hosts";
import { waitFor } from "../../hosts/run";
import { allNodesReady, LEASES } from "../../cluster";
import { readKubeconfig, readLease } from "../../kubeapi";
import { withLab } from "../cleanup";
import { guardedDeploy, repeatOnRace } from "../deployGuard";
import { restoreCluster } from "../kube";
import { Row } from "../stats";
import { LAB_NAMES, LAB_SUBNETS } from "../../hosts/subnets";
import { FailoverFigures, holderPowerOff } from "./failover";
import { phaseTimes, readinessPhases, RunnerLog } from "./phases";
import { spuriousElections, LOAD_BURNERS, LOAD_SECONDS } from "./load";
import { ClusterProfile, clusterProfiles, ETCD_NAMES, ETCD_TOPOLOGIES } from "./profiles";

const LAB = LAB_NAMES.clusterBench;
const SUBNET = LAB_SUBNETS.clusterBench;
/** Power-offs per deploy: the holder comes back and the cluster settles in between. */
const FAILOVERS_PER_DEPLOY = 3;
/** The cluster steady again after the powered-off holder came back, at most this long. */
const STEADY_BOUND_MS = 300_000;
const MASTERS = ["m1", "m2", "m3"];
const WORKERS = ["m4"];
/** Every node Ready after the run, at most this long. */
const NODES_READY_BOUND_MS = 300_000;

interface TryFigures {
  phases: Record<string, number>;
  failovers: FailoverFigures[];
  /** Lease changes of hands under load with no fault (load.ts). */
  spurious?: number;
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
  const spurious = await spuriousElections(d.lab, creds, d.masters);
  log(`    ${p.id}: ${spurious} lease changes of hands in ${LOAD_SECONDS} s of load, no fault`);
  const failovers: FailoverFigures[] = [];
  for (let i = 0; i < FAILOVERS_PER_DEPLOY; i++) {
    const lab = (await loadLab(LAB))!;
    const f = await holderPowerOff(lab, creds, d.api!.vip, d.masters, log);
    failovers.push(f);
    await powerOn(lab, f.holder);
    const settled = await restoreCluster((await loadLab(LAB))!, creds, d.masters, nodes, STEADY_BOUND_MS);
    log(`      ${f.holder} back and the cluster steady after ${(settled / 1000).toFixed(1)} s`);
  }
  return { phases, failovers, spurious };
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
  const deploys = Math.ceil(tries / FAILOVERS_PER_DEPLOY);
  await withLab(LAB, async () => {
    for (let i = 1; i <= deploys; i++) {
      // Profiles interleaved: a slow spell of the machine does not fall on one profile's tries only.
      for (const p of profiles) {
        const t0 = Date.now();
        log(`  ${p.id} deploy ${i}/${deploys}`);
        const { value: f, repeats } = await repeatOnRace(() => oneTry(p, log), log);
        figures.set(p.id, [...(figures.get(p.id) ?? []), { ...f, repeats }]);
        log(`  ${p.id} deploy ${i}/${deploys} took ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
      }
    }
  });
  log(`suite cluster: done in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  const phases = readinessPhases(MASTERS, WORKERS);
  // Leader election does not change how a cluster is made: the time to Ready is per etcd topology.
  const topologies = ETCD_TOPOLOGIES.filter((t) => profiles.some((p) => p.etcd === t));
  const ofTopology = (t: string) => profiles.filter((p) => p.etcd === t).flatMap((p) => figures.get(p.id)!);
  const readiness: Row[] = phases.flatMap((ph) =>
    topologies.map((t) => ({
      metric: `(a) ${ph.label}`,
      profile: ETCD_NAMES[t],
      unit: "s",
      samples: ofTopology(t)
        .map((f) => f.phases[ph.key])
        .filter((v) => v !== undefined),
    })),
  );
  const load: Row[] = profiles.map((p) => ({
    metric: `(b) no fault, ${LOAD_SECONDS} s with ${LOAD_BURNERS} busy loops per master (2 cores): lease changes of hands`,
    profile: p.name,
    unit: "changes",
    samples: figures
      .get(p.id)!
      .map((f) => f.spurious)
      .filter((v): v is number => v !== undefined),
  }));
  const failover: Row[] = FAILOVER_METRICS.flatMap((m) =>
    profiles.map((p) => ({
      metric: `(c) ${m.label}`,
      profile: p.name,
      unit: m.unit,
      samples: figures
        .get(p.id)!
        .flatMap((f) => f.failovers.map(m.of))
        .filter((v): v is number => v !== undefined),
    })),
  );
  const repeated: Row[] = topologies.map((t) => ({
    metric: "(a) deploys thrown away before the try's own: etcd static pod refused (kubernetes#99305)",
    profile: ETCD_NAMES[t],
    unit: "deploys",
    samples: ofTopology(t).map((f) => f.repeats ?? 0),
  }));
  return [...readiness, ...repeated, ...load, ...failover];
}
