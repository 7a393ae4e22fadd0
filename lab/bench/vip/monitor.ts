/**
 * The VIP watch: `ip -ts monitor address` inside every watched host timestamps each add and delete of the
 * VIP (to the millisecond, on this machine's clock, which the hosts share), so that a move is timed where
 * it happens rather than by polling. Used by the VIP and cluster benchmarks.
 */
import { Lab } from "../../hosts";
import { must, runningOf } from "../onhost";
import { Timeline, VipEvent } from "./timeline";

/** The lab hosts' interface on the bridge, which keepalived puts the VIP on. */
export const LAB_IFACE = "host0";

/** Monitors end by themselves after this long, should a run die without stopping them. */
const MONITOR_BOUND_S = 200;

/** The VIP's adds and deletes in one host's `ip -ts -4 monitor address` output. */
export function parseMonitor(host: string, vip: string, text: string): VipEvent[] {
  const evs: VipEvent[] = [];
  for (const line of text.split("\n")) {
    const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d*\] (Deleted )?.* inet (\S+)\//.exec(line);
    if (m && m[3] === vip) evs.push({ host, at: Date.parse(`${m[1]}Z`), held: !m[2] });
  }
  return evs;
}

/**
 * Timestamps every add and delete of the VIP on each watched host (bounded by `timeout`), plus a
 * snapshot taken right after the monitor started (a host that boots may have taken the VIP before its
 * monitor runs).
 */
export class VipWatch {
  private readonly pids = new Map<string, string>();
  private readonly events: VipEvent[] = [];
  private readonly file: string;

  private constructor(
    private readonly lab: Lab,
    private readonly vip: string,
    tag: string,
  ) {
    this.file = `/run/hakube-bench-vipmon-${tag}.log`;
  }

  static async start(lab: Lab, vip: string, tag: string, hosts: readonly string[]): Promise<VipWatch> {
    const w = new VipWatch(lab, vip, tag);
    await Promise.all(hosts.map((h) => w.add(h)));
    return w;
  }

  async add(host: string): Promise<void> {
    const out = await must(
      this.lab,
      host,
      `TZ=UTC nohup timeout ${MONITOR_BOUND_S} ip -ts -4 monitor address dev ${LAB_IFACE} >${this.file} 2>&1 </dev/null &
echo "pid $!"; sleep 0.1; ip -o -4 address show dev ${LAB_IFACE}`,
    );
    const at = Date.now();
    this.pids.set(host, /pid (\d+)/.exec(out)![1]);
    this.events.push({ host, at, held: out.includes(` ${this.vip}/`) });
  }

  /** A host that died: it holds nothing from `at` on (its monitor died with it). */
  dead(host: string, at: number): void {
    this.pids.delete(host);
    this.events.push({ host, at, held: false });
  }

  /** Every event so far (monitors keep running). */
  async peek(): Promise<Timeline> {
    const more = await Promise.all(
      [...this.pids.keys()].map(async (h) =>
        parseMonitor(h, this.vip, await must(this.lab, h, `cat ${this.file}`)),
      ),
    );
    return new Timeline([...this.events, ...more.flat()]);
  }

  async stop(): Promise<Timeline> {
    const more = await Promise.all(
      [...this.pids.entries()].map(async ([h, pid]) => {
        if (runningOf(this.lab, [h]).length === 0) return [];
        const out = await must(this.lab, h, `kill ${pid} 2>/dev/null; cat ${this.file}; rm -f ${this.file}`);
        return parseMonitor(h, this.vip, out);
      }),
    );
    this.pids.clear();
    return new Timeline([...this.events, ...more.flat()]);
  }
}
