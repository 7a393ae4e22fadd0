/**
 * A deploy the benchmarks can rely on to end. Kubernetes v1.20's kubelet can refuse kubeadm's stacked
 * etcd static pod on a joining master right after it starts ("Failed to admit pod etcd-<node> ...
 * ephemeral-storage": the node's ephemeral storage is not known yet, and kubeadm 1.20's etcd pod requests
 * 100Mi; kubernetes/kubernetes#99305, fixed by kubeadm dropping the request, #102673). The pod is never
 * retried, so `kubeadm join` waits for its etcd member forever. The benchmarks do not repair a deployment
 * they measure: the guard watches the masters' kubelet journals, and on that line destroys the lab (which
 * ends the deploy) and throws EtcdAdmissionRace, for the caller to start the try again and count it. Any
 * deploy is also ended after DEPLOY_BOUND_MS.
 */
import { deploy, DeployOptions, DeployResult } from "../deploy";
import { destroyLab, exec, loadLab } from "../hosts";
import { sleep } from "../hosts/run";
import { runningOf } from "./onhost";

/** How often the journals are read, and how long a deploy may take at most. */
const CHECK_EVERY_MS = 10_000;
const DEPLOY_BOUND_MS = 30 * 60_000;
const SIGNATURE = "Failed to admit pod etcd-.*ephemeral-storage";

/** The deploy met kubernetes#99305 on `host` and was ended. */
export class EtcdAdmissionRace extends Error {
  constructor(readonly host: string) {
    super(`${host}'s kubelet refused kubeadm's etcd static pod (kubernetes/kubernetes#99305)`);
  }
}

/** deploy(), ended (lab destroyed) on kubernetes#99305 or after DEPLOY_BOUND_MS. */
export async function guardedDeploy(opts: DeployOptions): Promise<DeployResult> {
  const masters = Array.from({ length: opts.masters ?? 3 }, (_, i) => `m${i + 1}`);
  const started = Date.now();
  let stop = false;
  let why: Error | undefined;
  const end = async (e: Error) => {
    why = e;
    stop = true;
    await destroyLab(opts.lab);
  };
  const watch = (async () => {
    for (let last = started; !stop; await sleep(500)) {
      if (Date.now() - started > DEPLOY_BOUND_MS)
        return end(new Error(`the deploy took longer than ${DEPLOY_BOUND_MS / 60_000} min`));
      if (opts.etcd !== "stacked" || Date.now() - last < CHECK_EVERY_MS) continue;
      last = Date.now();
      const lab = await loadLab(opts.lab);
      for (const host of lab ? runningOf(lab, masters) : []) {
        const cmd = `journalctl -u kubelet --no-pager -q | grep -q -m1 '${SIGNATURE}'`;
        const r = await exec(lab!, host, cmd, { timeoutMs: 10_000 }).catch(() => undefined);
        if (r?.code === 0) return end(new EtcdAdmissionRace(host));
      }
    }
  })();
  let result: DeployResult | undefined;
  let failed: unknown;
  try {
    result = await deploy(opts);
  } catch (e) {
    failed = e;
  }
  stop = true;
  await watch;
  if (why) throw why;
  if (failed !== undefined) throw failed;
  return result!;
}

/**
 * Runs `attempt` (which starts from a fresh lab) again each time it meets EtcdAdmissionRace, at most
 * `max` times in all; returns its value and how many attempts were thrown away.
 */
export async function repeatOnRace<T>(
  attempt: () => Promise<T>,
  log: (l: string) => void,
  max = 4,
): Promise<{ value: T; repeats: number }> {
  for (let repeats = 0; ; repeats++) {
    try {
      return { value: await attempt(), repeats };
    } catch (e) {
      if (!(e instanceof EtcdAdmissionRace) || repeats + 1 >= max) throw e;
      log(`    ${e.message}: the lab is destroyed and the try starts again`);
    }
  }
}
