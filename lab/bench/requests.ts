/**
 * The clients of the benchmarks and what their requests say. Reads: the lab's request loop (lab/probe.ts)
 * sending an authenticated GET through the VIP as kubectl would with HaControlPlane's kubeconfig (its
 * client certificate, the server verified against the cluster CA). Writes: a ConfigMap POSTed every
 * 200 ms, one at a time. Then pure figures over their results, each over the requests started in a window.
 */
import { sleep } from "../hosts/run";
import { apiRequest, KubeCredentials } from "../kubeapi";
import { Prober, ProbeResult } from "../probe";

/** An authenticated read that reaches etcd (a quorum read), as `kubectl get namespace default` makes. */
export const READ_PATH = "/api/v1/namespaces/default";
/**
 * A new read every 50 ms (as the lab tests send them), each on a new TLS connection, 5 s at most; at
 * most 8000 reads or 200 s. Every read costs a TLS handshake with a client certificate on both sides:
 * the stand-in's 25 ms would add twice that load to a real control plane on two cores.
 */
const READS = { everyMs: 50, timeoutMs: 5000, max: 8000, boundMs: 200_000 };
/** One write every 200 ms after the previous one ended, 5 s at most each. */
const WRITES = { everyMs: 200, timeoutMs: 5000 };

/** Starts the read loop through the kubeconfig's server (the VIP). */
export function startReads(creds: KubeCredentials): Prober {
  const { everyMs, timeoutMs, max, boundMs } = READS;
  const client = { cert: creds.cert, key: creds.key };
  return new Prober(
    `${creds.server}${READ_PATH}`,
    creds.ca,
    everyMs,
    timeoutMs,
    max,
    boundMs,
    client,
  ).start();
}

/** Writes ConfigMaps `<prefix>-<n>` in the default namespace until stopped; each outcome kept. */
export class ConfigMapWriter {
  readonly results: ProbeResult[] = [];
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly creds: KubeCredentials,
    private readonly prefix: string,
  ) {}

  start(): this {
    this.loop = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const at = Date.now();
        const body = {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `${this.prefix}-${i}` },
          data: { at: String(at) },
        };
        const r = await apiRequest(
          this.creds,
          "POST",
          "/api/v1/namespaces/default/configmaps",
          body,
          WRITES.timeoutMs,
        );
        const ok = r.status === 201;
        this.results.push({ at, ok, ms: r.ms, error: ok ? undefined : (r.error ?? `status ${r.status}`) });
        await sleep(WRITES.everyMs);
      }
    })();
    return this;
  }

  async stop(): Promise<ProbeResult[]> {
    this.stopped = true;
    await this.loop;
    return this.results;
  }
}

const within = (rs: ProbeResult[], from: number, to: number) => rs.filter((r) => r.at >= from && r.at < to);

/** The share (%) of the requests started in [from, to) that failed (100 if none started). */
export function failedPct(results: ProbeResult[], from: number, to: number): number {
  const inWindow = within(results, from, to);
  if (inWindow.length === 0) return 100;
  return (100 * inWindow.filter((r) => !r.ok).length) / inWindow.length;
}

/** How many of the requests started in [from, to) failed. */
export function failedCount(results: ProbeResult[], from: number, to: number): number {
  return within(results, from, to).filter((r) => !r.ok).length;
}

/**
 * The longest stretch of failing requests among those started in [from, to): from a failed request's
 * start (the first of a run of failures, by start time) to the end of the first success started after
 * the run's last failure; 0 if none failed. Censored at `to` if no success followed.
 */
export function longestFailure(
  results: ProbeResult[],
  from: number,
  to: number,
): { ms: number; censored: boolean } {
  const rs = within(results, from, to).sort((a, b) => a.at - b.at);
  let longest = { ms: 0, censored: false };
  for (let i = 0; i < rs.length; i++) {
    if (rs[i].ok) continue;
    let j = i;
    while (j + 1 < rs.length && !rs[j + 1].ok) j++;
    const lastFail = rs[j].at;
    const ends = results.filter((r) => r.ok && r.at > lastFail).map((r) => r.at + r.ms);
    const stretch = ends.length
      ? { ms: Math.min(...ends) - rs[i].at, censored: false }
      : { ms: to - rs[i].at, censored: true };
    if (stretch.ms > longest.ms) longest = stretch;
    i = j;
  }
  return longest;
}

/** The earliest end of a successful request that ended at or after `after`. */
export function firstOkEnd(results: ProbeResult[], after: number): number | undefined {
  const ends = results.filter((r) => r.ok && r.at + r.ms >= after).map((r) => r.at + r.ms);
  return ends.length ? Math.min(...ends) : undefined;
}

/** The start of the last failed request started at or after `from` (undefined: none failed). */
export function lastFailedStart(results: ProbeResult[], from: number): number | undefined {
  const starts = results.filter((r) => !r.ok && r.at >= from).map((r) => r.at);
  return starts.length ? Math.max(...starts) : undefined;
}

/** The slowest request started in [from, to) (a failed one counts with its time until it failed). */
export function slowest(results: ProbeResult[], from: number, to: number): number {
  return Math.max(0, ...within(results, from, to).map((r) => r.ms));
}

/** The distinct errors of the failed requests started in [from, to). */
export function errorsOf(results: ProbeResult[], from: number, to: number): string[] {
  return [
    ...new Set(
      within(results, from, to)
        .filter((r) => !r.ok)
        .map((r) => r.error ?? ""),
    ),
  ];
}

/**
 * For the progress log: the failed requests started in [from, to), per whole second after `from`, with
 * their errors counted ("+0s 3, +1s 12; timeout 10, read ECONNRESET 5").
 */
export function failureSummary(results: ProbeResult[], from: number, to: number): string {
  const failed = within(results, from, to).filter((r) => !r.ok);
  const count = (keys: Array<string | number>) => {
    const m = new Map<string | number, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const perSecond = count(failed.map((r) => Math.floor((r.at - from) / 1000)));
  const perError = count(failed.map((r) => r.error ?? "?"));
  const seconds = [...perSecond].map(([s, n]) => `+${s}s ${n}`).join(", ");
  const errors = [...perError].map(([e, n]) => `${e} ${n}`).join(", ");
  return failed.length === 0 ? "none failed" : `${seconds}; ${errors}`;
}
