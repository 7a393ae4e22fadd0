/**
 * The benchmarks' view of the lab's Kubernetes control plane: a steady cluster (every API server ready on
 * its own address, every node Ready, parked static pods back) and the followers that stand by for the
 * leader leases.
 */
import { exec, Lab } from "../hosts";
import { waitFor } from "../hosts/run";
import { allNodesReady, apiServerReady, unparkStaticPods } from "../cluster";
import { KubeCredentials } from "../kubeapi";
import { runningOf } from "./onhost";

/** The secure ports kubeadm gives kube-controller-manager and kube-scheduler (127.0.0.1 only). */
const FOLLOWER_PORTS = { "kube-controller-manager": 10257, "kube-scheduler": 10259 } as const;

/** The masters whose kube-apiserver does not answer /readyz on their own address. */
export async function apiServersNotReady(lab: Lab, masters: readonly string[]): Promise<string[]> {
  const ready = await Promise.all(masters.map((m) => apiServerReady(lab, m)));
  return masters.filter((_, i) => !ready[i]);
}

/** What keeps the cluster from being steady, or undefined when it is. */
export async function clusterProblem(
  lab: Lab,
  creds: KubeCredentials,
  masters: readonly string[],
  nodes: readonly string[],
): Promise<string | undefined> {
  const notReady = await apiServersNotReady(lab, masters);
  if (notReady.length > 0) return `API servers not ready: ${notReady.join(", ")}`;
  if (!(await allNodesReady(creds, nodes))) return "not every node is Ready";
  return undefined;
}

/**
 * Parked static pods back on every running master, then waits until every API server is ready and every
 * node Ready. Returns how long that took.
 */
export async function restoreCluster(
  lab: Lab,
  creds: KubeCredentials,
  masters: readonly string[],
  nodes: readonly string[],
  timeoutMs: number,
): Promise<number> {
  const t0 = Date.now();
  await Promise.all(runningOf(lab, masters).map((m) => unparkStaticPods(lab, m)));
  let why = "";
  await waitFor(
    "a steady cluster",
    async () => {
      why = (await clusterProblem(lab, creds, masters, nodes)) ?? "";
      return why === "";
    },
    timeoutMs,
    1000,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (${why})`);
  });
  return Date.now() - t0;
}

/** Waits until kube-controller-manager and kube-scheduler answer /healthz on every one of `masters`. */
export function waitFollowers(lab: Lab, masters: readonly string[], timeoutMs: number): Promise<boolean> {
  const cmd = Object.values(FOLLOWER_PORTS)
    .map((p) => `curl -fsSk --max-time 2 https://127.0.0.1:${p}/healthz`)
    .join(" && ");
  return waitFor(
    `kube-controller-manager and kube-scheduler on ${masters.join(", ")}`,
    async () => {
      const rs = await Promise.all(masters.map((m) => exec(lab, m, cmd, { timeoutMs: 10_000 })));
      return rs.every((r) => r.code === 0);
    },
    timeoutMs,
    1000,
  );
}
