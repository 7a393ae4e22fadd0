/**
 * Operations on the lab's Kubernetes cluster that the tests and the benchmarks share: who holds the VIP,
 * stopping and starting a master's kube-apiserver (and controller-manager, scheduler) the kubeadm way (its
 * static pod manifest leaves /etc/kubernetes/manifests and comes back), waiting until every node is Ready,
 * and moving the controller-manager and scheduler leases to a chosen master.
 */
import { addressHolders, exec, Lab } from "./hosts";
import { waitFor } from "./hosts/run";
import { apiRequest, KubeCredentials, leaseHolderVia } from "./kubeapi";

const MANIFESTS = "/etc/kubernetes/manifests";
const PARKED = "/etc/kubernetes/hakube-lab-parked";
export const LEASES = ["kube-controller-manager", "kube-scheduler"] as const;

/** Exactly one running host holds the VIP: its name (waits until so, and not `except`). */
export function settledVipHolder(
  lab: Lab,
  vip: string,
  timeoutMs = 30_000,
  except?: string,
): Promise<string> {
  return waitFor(
    "exactly one VIP holder",
    async () => {
      const h = await addressHolders(lab, vip);
      return h.length === 1 && h[0] !== except ? h[0] : undefined;
    },
    timeoutMs,
    100,
  );
}

/**
 * The VIP's holder once it is steady: the same single host seen at every poll for `steadyMs` (a returning
 * master may take the VIP back by preemption a few seconds after a first single holder appears).
 */
export async function steadyVipHolder(
  lab: Lab,
  vip: string,
  steadyMs = 5000,
  timeoutMs = 60_000,
): Promise<string> {
  let since = Date.now();
  let last: string | undefined;
  return waitFor(
    `one VIP holder, unchanged for ${steadyMs} ms`,
    async () => {
      const h = await addressHolders(lab, vip);
      const now = h.length === 1 ? h[0] : undefined;
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return now !== undefined && Date.now() - since >= steadyMs ? now : undefined;
    },
    timeoutMs,
    100,
  );
}

/**
 * Stops static pods on a master as kubeadm's documentation does: their manifests leave the kubelet's
 * folder, and the kubelet stops the pods (SIGTERM, then the grace period).
 */
export async function parkStaticPods(lab: Lab, host: string, pods: readonly string[]): Promise<void> {
  const files = pods.map((p) => `${MANIFESTS}/${p}.yaml`).join(" ");
  const r = await exec(
    lab,
    host,
    `set -e; mkdir -p ${PARKED}; for f in ${files}; do [ ! -f "$f" ] || mv "$f" ${PARKED}/; done`,
  );
  if (r.code !== 0) throw new Error(`parking ${pods.join(", ")} on ${host} failed: ${r.stderr}`);
}

/** Puts parked manifests back (the kubelet starts the pods again). No-op for what is not parked. */
export async function unparkStaticPods(lab: Lab, host: string): Promise<void> {
  await exec(
    lab,
    host,
    `[ ! -d ${PARKED} ] || { for f in ${PARKED}/*.yaml; do [ ! -f "$f" ] || mv "$f" ${MANIFESTS}/; done; }`,
  );
}

/** The host's kube-apiserver answers /readyz on its own address (through the node, not the VIP). */
export async function apiServerReady(lab: Lab, host: string): Promise<boolean> {
  const h = lab.hosts.find((x) => x.name === host)!;
  const r = await exec(
    lab,
    host,
    `curl -fsS --max-time 2 --cacert /etc/kubernetes/pki/ca.crt https://${h.address}:6443/readyz`,
    {
      timeoutMs: 5000,
    },
  );
  return r.code === 0 && r.stdout.trim() === "ok";
}

/** Every node Ready, as the API says (the caller's credentials, through the VIP). */
export async function allNodesReady(creds: KubeCredentials, expected: readonly string[]): Promise<boolean> {
  const r = await apiRequest(creds, "GET", "/api/v1/nodes", undefined, 5000);
  if (r.status !== 200) return false;
  const items = (
    JSON.parse(r.body) as {
      items: Array<{
        metadata: { name: string };
        status: { conditions: Array<{ type: string; status: string }> };
      }>;
    }
  ).items;
  const ready = new Set(
    items
      .filter((n) => n.status.conditions.some((c) => c.type === "Ready" && c.status === "True"))
      .map((n) => n.metadata.name),
  );
  return expected.every((n) => ready.has(n));
}

export function waitAllNodesReady(
  creds: KubeCredentials,
  expected: readonly string[],
  timeoutMs = 180_000,
): Promise<boolean> {
  return waitFor(
    `nodes ${expected.join(", ")} to be Ready`,
    () => allNodesReady(creds, expected),
    timeoutMs,
    1000,
  );
}

/** The current holder of each leader lease. */
export async function leaseHolders(
  creds: KubeCredentials,
): Promise<Record<(typeof LEASES)[number], string | null>> {
  const [cm, sched] = await Promise.all(LEASES.map((l) => leaseHolderVia(creds, l)));
  return { "kube-controller-manager": cm, "kube-scheduler": sched };
}

/**
 * Moves both leases to `target`: the controller-manager and scheduler of every other master stop until
 * `target` holds both leases (their leases expire after kubeadm's 15 s), then start again as followers.
 */
export async function moveLeasesTo(
  lab: Lab,
  creds: KubeCredentials,
  target: string,
  masters: readonly string[],
): Promise<void> {
  const holders = await leaseHolders(creds);
  if (LEASES.every((l) => holders[l] === target)) return;
  const others = masters.filter((m) => m !== target);
  await Promise.all(others.map((m) => parkStaticPods(lab, m, LEASES)));
  try {
    await waitFor(
      `${target} to hold both leases`,
      async () => {
        const h = await leaseHolders(creds);
        return LEASES.every((l) => h[l] === target);
      },
      90_000,
      500,
    );
  } finally {
    await Promise.all(others.map((m) => unparkStaticPods(lab, m)));
  }
}
