/**
 * Where a deployment's time goes, read from the lab runner's own log lines as they arrive: `+ create
 * <name> (<type>)` when a resource starts, `  <name>: ran on <host> in <X>s, exit code 0` when its
 * command ends (timestamped here on arrival). No test framework in between.
 */

/** One resource of the run: when it started and ended here, and its command's own duration. */
export interface Span {
  start?: number;
  end?: number;
  /** The runner's "in X s" (the command's time on the host, SSH included). */
  ranMs?: number;
}

/** Collects the runner's log lines with their arrival time; pass `log` to deploy(). */
export class RunnerLog {
  readonly spans = new Map<string, Span>();
  runStart?: number;
  runEnd?: number;
  /** The last lines, for the error message of a failed run. */
  readonly tail: string[] = [];

  readonly log = (line: string): void => {
    const at = Date.now();
    this.tail.push(line);
    if (this.tail.length > 60) this.tail.shift();
    if (/^up \S+ \(state /.test(line)) this.runStart = at;
    if (/^done in /.test(line)) this.runEnd = at;
    const created = /^\+ create (\S+) \(/.exec(line);
    if (created) this.span(created[1]).start = at;
    const ran = /^ {2}(\S+): ran (?:on .*|locally) in ([0-9.]+)s, exit code/.exec(line);
    if (ran) Object.assign(this.span(ran[1]), { end: at, ranMs: Number(ran[2]) * 1000 });
  };

  private span(name: string): Span {
    let s = this.spans.get(name);
    if (!s) this.spans.set(name, (s = {}));
    return s;
  }

  /** From the first start to the last end of the resources whose names match (all must have ended). */
  window(match: RegExp): { start: number; end: number } | undefined {
    const ss = [...this.spans.entries()].filter(([n]) => match.test(n)).map(([, s]) => s);
    if (ss.length === 0 || ss.some((s) => s.start === undefined || s.end === undefined)) return undefined;
    return { start: Math.min(...ss.map((s) => s.start!)), end: Math.max(...ss.map((s) => s.end!)) };
  }
}

/** A phase of the deployment, as the table names it. */
export interface Phase {
  key: string;
  label: string;
}

/** The phases of a Ready cluster, in the order they happen. */
export function readinessPhases(masters: readonly string[], workers: readonly string[]): Phase[] {
  return [
    { key: "hosts", label: "hosts booted (createLab; not part of the deploy)" },
    { key: "before", label: "endpoint and etcd: run start to the first node's prepare" },
    { key: "prepare", label: "prepare, every node in parallel (first start to last end)" },
    { key: `init`, label: `kubeadm init on ${masters[0]}` },
    ...masters.slice(1).map((m) => ({ key: `join-${m}`, label: `kubeadm join --control-plane on ${m}` })),
    ...workers.map((w) => ({ key: `join-${w}`, label: `kubeadm join on worker ${w}` })),
    { key: "gate", label: "readiness gate (/readyz through the VIP)" },
    { key: "podNetwork", label: "lab pod network (after the gate)" },
    { key: "run", label: "deploy: the whole lab runner run" },
    { key: "nodesReady", label: "run end to every node Ready" },
    { key: "total", label: "time to a Ready cluster: run start to every node Ready" },
  ];
}

/**
 * The phases' durations (ms) of one deployment whose runner log is `r`, given when the hosts were booted
 * and when every node was Ready. A phase the log does not show is left out.
 */
export function phaseTimes(
  r: RunnerLog,
  cluster: string,
  masters: readonly string[],
  workers: readonly string[],
  hostsMs: number,
  nodesReadyAt: number,
): Record<string, number> {
  const out: Record<string, number> = { hosts: hostsMs };
  const ran = (name: string) => r.spans.get(`${cluster}-${name}`)?.ranMs;
  const prepare = r.window(new RegExp(`^${cluster}-[^-]+-prepare$`));
  if (prepare && r.runStart !== undefined) {
    out.before = prepare.start - r.runStart;
    out.prepare = prepare.end - prepare.start;
  }
  const put = (key: string, v: number | undefined) => {
    if (v !== undefined) out[key] = v;
  };
  put("init", ran(`${masters[0]}-init`));
  for (const n of [...masters.slice(1), ...workers]) put(`join-${n}`, ran(`${n}-join`));
  put("gate", ran("ready"));
  const net = r.window(/^pod-network-/);
  if (net) out.podNetwork = net.end - net.start;
  if (r.runStart !== undefined && r.runEnd !== undefined) {
    out.run = r.runEnd - r.runStart;
    out.nodesReady = nodesReadyAt - r.runEnd;
    out.total = nodesReadyAt - r.runStart;
  }
  return out;
}
