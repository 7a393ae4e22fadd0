/**
 * VIP benchmark on the lab: failover of the API endpoint (keepalived VIP + HAProxy on three masters in
 * front of the kube-apiserver stand-in), hakube against what users get elsewhere, side by side in one
 * run. Each profile starts from fresh hosts and a normal deploy; an anchor then writes its own
 * keepalived.conf / haproxy.cfg over SSH (lab/bench/anchors.ts). Per try, six scenarios, each from a
 * steady state (every host up, every service active, one VIP holder, the VIP answering and, where the
 * scenario needs it, every backend UP and no keepalived in FAULT):
 *
 *   2. API server death: the stand-in stopped on the holder;
 *   3. backend death: the stand-in stopped on a non-holder;
 *   4. keepalived SIGKILL on the holder;
 *   6. no fault, six busy loops in every host for 20 s (a VIP move or MASTER transition is a flap);
 *   1. host death: the holder powered off (link cut, then SIGKILL of its init);
 *   5. return: that host powered on again.
 *
 * Meanwhile a bounded request loop (lab/probe.ts) starts GET /readyz through the VIP every 25 ms (not
 * waiting for the previous one; a new connection each, 5 s at most, the cluster CA verified), and `ip monitor` inside
 * every host timestamps each VIP add and delete. Traffic goes only to the lab's own hosts; every run
 * removes its lab, also on failure.
 *
 *   npm run bench -- vip [--tries 5]
 *   HAKUBE_BENCH_VIP_PROFILES=hakube-default,kubeadm npm run bench -- vip --tries 1   # a subset
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { deploy } from "../deploy";
import { addressHolders, destroyLab, exec, Lab, powerOff, powerOn, ssh } from "../hosts";
import { httpsGet, sleep } from "../../tests/lab/helpers";
import { Prober, ProbeResult } from "../probe";
import { heredoc } from "../../components/shell";
import { VrrpTimingProfile } from "../../components/keepalived/types";
import { DEFAULT_HAPROXY_HEALTH_PORT } from "../../components/loadbalancer/defaults";
import { AnchorKind, anchorFiles, anchorReplaces, AnchorSite } from "./anchors";
import { withLab } from "./cleanup";
import { median, Row } from "./stats";

const LAB = "b-vip";
const SUBNET = 11;
const STANDIN = "hakube-apiserver-standin";
const PORT = 6443;
const IFACE = "host0";
const STANDIN_CA = "/var/lib/hakube-apiserver-standin/ca.crt";

/** The failed share of scenario 1 is taken over this long after the fault (and its moves, at least). */
const HOST_DEATH_WINDOW_MS = 6_000;
/** Scenario 5 watches this long after the power-on. */
const RETURN_WINDOW_MS = 20_000;
/** Scenarios 2 and 3 watch at least this long. */
const MIN_WINDOW_MS = 6_000;
/** Scenario 4: holders are counted this long after the kill; the whole watch lasts KILL_WINDOW_MS. */
const KILL_HOLDERS_AT_MS = 2_000;
const KILL_WINDOW_MS = 6_000;
/** Scenario 6: no fault, this long, with HEAVY_BURNERS busy loops in each host (6 x 3 on two cores). */
const IDLE_WINDOW_MS = 20_000;
const HEAVY_BURNERS = 6;
/** The request loop and the watches run this long before the fault. */
const PRE_FAULT_MS = 300;
/** No failover takes longer than this in any profile; past it the try counts as "not within". */
const FAILOVER_BOUND_MS = 30_000;
/** How long a steady state may take to come back between scenarios. */
const STEADY_BOUND_MS = 120_000;
/** The whole run gives up after this long. */
const RUN_BOUND_MS = 90 * 60_000;

// ---- profiles ----

export interface VipProfile {
  id: string;
  /** As shown in the table. */
  name: string;
  vipTiming?: { profile: VrrpTimingProfile };
  anchor?: AnchorKind;
  /** Two CPU burners inside every host while a scenario is measured. */
  cpuLoad: boolean;
  /**
   * Scenario 2 watches until the VIP moves, at most this long: only where the keepalived check asks the
   * API server itself can its failure move the VIP (hakube's checks HAProxy; kubeadm's goes through the
   * local HAProxy, which sends the check to another server).
   */
  apiDeathWatchMs: number;
  /** Scenario 3 waits at most this long for the holder's HAProxy to mark the backend DOWN. */
  backendDownBoundMs: number;
  /**
   * A steady state needs the same holder this long: longer than a pending preemption takes to show
   * (a backup that outranks the holder takes over after 3 advertisement intervals and its skew).
   */
  steadyHoldMs: number;
}

export const VIP_PROFILES: VipProfile[] = [
  {
    id: "hakube-default",
    name: "hakube default (advert 0.1 s, check 1 s x2; HAProxy inter 0.5 s fall 2)",
    cpuLoad: false,
    apiDeathWatchMs: MIN_WINDOW_MS,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 10_000,
  },
  {
    id: "hakube-default-load",
    name: "hakube default, CPU load (control for the next row)",
    cpuLoad: true,
    apiDeathWatchMs: MIN_WINDOW_MS,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 10_000,
  },
  {
    id: "hakube-balanced",
    name: "hakube balanced (advert 0.3 s), CPU load",
    vipTiming: { profile: VrrpTimingProfile.Balanced },
    cpuLoad: true,
    apiDeathWatchMs: MIN_WINDOW_MS,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 10_000,
  },
  {
    id: "kubeadm",
    name: "kubeadm HA guide: keepalived (advert 1 s, check 3 s x10, -2) + HAProxy (inter 2 s fall 3, retries 1)",
    anchor: AnchorKind.Kubeadm,
    cpuLoad: false,
    apiDeathWatchMs: MIN_WINDOW_MS,
    steadyHoldMs: 4_000,
    backendDownBoundMs: 15_000,
  },
  {
    id: "platform9",
    name: "Platform9 keepalived (check 10 s x6 -> FAULT, nopreempt) + hakube HAProxy",
    anchor: AnchorKind.Platform9,
    cpuLoad: false,
    apiDeathWatchMs: 85_000,
    steadyHoldMs: 4_000,
    backendDownBoundMs: 10_000,
  },
  {
    id: "kubespray",
    name: "hakube keepalived + kubespray HAProxy (inter 15 s fall 2, connect 30 s, retries 5)",
    anchor: AnchorKind.Kubespray,
    cpuLoad: false,
    apiDeathWatchMs: MIN_WINDOW_MS,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 50_000,
  },
];

// ---- figures ----

/** One try of one scenario. `censored`: the thing did not happen within the bound (value = the bound). */
export interface Figure {
  failoverMs?: number;
  failoverCensored?: boolean;
  failedPct: number;
  moves: number;
  /** The scenario's extra figures by key; `c`: a bound, as for the failover. */
  extras?: Record<string, { v: number; c?: boolean }>;
  /** The failed requests' errors (for the progress log). */
  errors?: string[];
  /** The longest stall of this process's event loop meanwhile (the client side of the requests). */
  lagMs?: number;
}

export interface Scenario {
  key: "s1" | "s2" | "s3" | "s4" | "s5" | "s6";
  title: string;
  /** What the failover column means here. */
  failover: string;
  /** Which requests the failed share counts. */
  window: string;
  extras?: Array<{ key: string; label: string; unit: "s" | "n" }>;
}

export const SCENARIOS: Scenario[] = [
  {
    key: "s1",
    title: "1. host death (holder powered off)",
    failover: "another host holds the VIP and a request through it succeeded",
    window: "requests started in the 6 s after the fault",
    extras: [
      { key: "acquired", label: "VIP on another host after (s)", unit: "s" },
      { key: "slowest", label: "slowest request (s)", unit: "s" },
    ],
  },
  {
    key: "s2",
    title: "2. API server stopped on the holder",
    failover:
      "longest stretch of failing requests (first failure's start to the next success's end; 0: none failed)",
    window: "requests until the VIP moved (+1 s) or the watch ended (6 s; Platform9 85 s)",
    extras: [{ key: "moved", label: "VIP moved after (s)", unit: "s" }],
  },
  {
    key: "s3",
    title: "3. API server stopped on a non-holder",
    failover: "longest stretch of failing requests (as in 2)",
    window: "requests until the holder's HAProxy marked it DOWN (at least 6 s)",
    extras: [
      { key: "down", label: "holder's HAProxy marked it DOWN after (s)", unit: "s" },
      { key: "slowest", label: "slowest request (s)", unit: "s" },
    ],
  },
  {
    key: "s4",
    title: "4. keepalived SIGKILL on the holder",
    failover: "exactly one holder from then on (within 6 s)",
    window: "requests in the 6 s after the kill",
    extras: [
      { key: "at2s", label: "holders 2 s after", unit: "n" },
      { key: "atEnd", label: "holders 6 s after", unit: "n" },
    ],
  },
  {
    key: "s5",
    title: "5. dead master powered on again",
    failover: "last VIP move (no sample: it did not move)",
    window: "requests in the 20 s after the power-on",
  },
  {
    key: "s6",
    title: `6. no fault, heavy CPU load (${HEAVY_BURNERS} busy loops per host)`,
    failover: "none (nothing failed)",
    window: `requests in the ${IDLE_WINDOW_MS / 1000} s of load`,
    extras: [{ key: "masters", label: "keepalived MASTER transitions", unit: "n" }],
  },
];

// ---- the lab ----

export interface Ctx {
  lab: Lab;
  vip: string;
  url: string;
  ca: string;
  profile: VipProfile;
  /** Journals are read from here on (the anchor's configuration in place). */
  since: number;
  /** The keepalived unit: hakube's (restarts, releases the VIP) or the distribution's (anchors). */
  distributionKeepalived: boolean;
  log: (l: string) => void;
}

const running = (ctx: Ctx) => ctx.lab.hosts.filter((h) => h.running).map((h) => h.name);

async function must(ctx: Ctx, host: string, cmd: string, timeoutMs = 30_000): Promise<string> {
  const r = await exec(ctx.lab, host, cmd, { timeoutMs });
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: rc ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** The running hosts that have the VIP on their interface. */
const holders = (ctx: Ctx) => addressHolders(ctx.lab, ctx.vip);

const vipAnswers = async (ctx: Ctx) => (await httpsGet(ctx.url, { ca: ctx.ca }, 2000)).status === 200;

/** Last UP/DOWN state per server in a host's HAProxy journal since `since`. */
async function haproxyStates(ctx: Ctx, host: string): Promise<Map<string, { state: string; at: number }>> {
  const r = await exec(
    ctx.lab,
    host,
    `journalctl -u haproxy -o short-unix --no-pager --since=@${Math.floor(ctx.since / 1000)}`,
    { timeoutMs: 10_000 },
  );
  const states = new Map<string, { state: string; at: number }>();
  for (const line of r.stdout.split("\n")) {
    const m = /^(\d+\.\d+) .*Server (\S+\/\S+) is (UP|DOWN)/.exec(line);
    if (m) states.set(m[2], { state: m[3], at: Number(m[1]) * 1000 });
  }
  return states;
}

/** The first time after `after` that the host's HAProxy marked `server` DOWN. */
async function markedDownAt(
  ctx: Ctx,
  host: string,
  server: string,
  after: number,
): Promise<number | undefined> {
  const r = await exec(
    ctx.lab,
    host,
    `journalctl -u haproxy -o short-unix --no-pager --since=@${Math.floor(after / 1000) - 1}`,
    { timeoutMs: 10_000 },
  );
  for (const line of r.stdout.split("\n")) {
    const m = /^(\d+\.\d+) .*Server \S+\/(\S+) is DOWN/.exec(line);
    if (m && m[2] === server && Number(m[1]) * 1000 >= after) return Number(m[1]) * 1000;
  }
  return undefined;
}

/** keepalived's last "Entering X STATE" on a host since `since`. */
async function keepalivedState(ctx: Ctx, host: string): Promise<string | undefined> {
  const r = await exec(
    ctx.lab,
    host,
    `journalctl -u keepalived -o cat --no-pager --since=@${Math.floor(ctx.since / 1000)} | grep -o 'Entering [A-Z]* STATE' | tail -n 1`,
    { timeoutMs: 10_000 },
  );
  return /Entering ([A-Z]+) STATE/.exec(r.stdout)?.[1];
}

/** Which HAProxies must have every backend UP before a scenario. */
type BackendsUp = "none" | "holder" | "all";

/**
 * Back to a steady state: every host on, every service started, exactly one holder (the same for the
 * profile's `steadyHoldMs`), the VIP answering; every backend UP in the holder's HAProxy or in every HAProxy (`backends`);
 * with `noFault`, no keepalived in FAULT. Returns the holder.
 */
async function steady(ctx: Ctx, backends: BackendsUp, noFault: boolean): Promise<string> {
  const t0 = Date.now();
  for (const h of ctx.lab.hosts) if (!h.running) await powerOn(ctx.lab, h.name);
  await Promise.all(running(ctx).map((h) => must(ctx, h, `systemctl start ${STANDIN} haproxy keepalived`)));
  const problem = async (hs: string[]): Promise<string | undefined> => {
    if (hs.length !== 1) return `holders: [${hs.join(", ")}]`;
    if (!(await vipAnswers(ctx))) return "the VIP does not answer";
    const lbs = backends === "all" ? running(ctx) : backends === "holder" ? hs : [];
    const down = (
      await Promise.all(
        lbs.map(async (h) =>
          [...(await haproxyStates(ctx, h))]
            .filter(([, st]) => st.state === "DOWN")
            .map(([srv]) => `${h}:${srv}`),
        ),
      )
    ).flat();
    const fault = noFault
      ? (
          await Promise.all(
            running(ctx).map(async (h) => ((await keepalivedState(ctx, h)) === "FAULT" ? h : "")),
          )
        ).filter(Boolean)
      : [];
    if (down.length > 0) return `HAProxy backends DOWN: ${down.join(", ")}`;
    if (fault.length > 0) return `keepalived in FAULT on ${fault.join(", ")}`;
    return undefined;
  };
  let holder = "";
  let since = 0;
  let why = "";
  while (Date.now() - t0 < STEADY_BOUND_MS) {
    const hs = await holders(ctx);
    const p = await problem(hs);
    if (p !== undefined) {
      why = p;
      holder = "";
    } else if (hs[0] !== holder) {
      holder = hs[0];
      since = Date.now();
    } else if (Date.now() - since >= ctx.profile.steadyHoldMs) {
      const waited = Date.now() - t0;
      if (waited > 10_000) ctx.log(`      (steady after ${(waited / 1000).toFixed(1)} s; last wait: ${why})`);
      return holder;
    }
    await sleep(250);
  }
  throw new Error(`no steady state after ${STEADY_BOUND_MS / 1000} s: ${why}`);
}

// ---- VIP watch: `ip monitor` inside every host ----

interface VipEvent {
  host: string;
  at: number;
  held: boolean;
}

/**
 * Timestamps every add and delete of the VIP on each watched host (`ip -ts monitor address`, bounded by
 * `timeout`), plus a snapshot taken right after the monitor started (a host that boots may have taken the
 * VIP before its monitor runs).
 */
class VipWatch {
  private readonly pids = new Map<string, string>();
  private readonly events: VipEvent[] = [];
  private readonly file: string;

  constructor(
    private readonly ctx: Ctx,
    tag: string,
  ) {
    this.file = `/run/hakube-bench-vipmon-${tag}.log`;
  }

  static async start(ctx: Ctx, tag: string, hosts: string[]): Promise<VipWatch> {
    const w = new VipWatch(ctx, tag);
    await Promise.all(hosts.map((h) => w.add(h)));
    return w;
  }

  async add(host: string): Promise<void> {
    const out = await must(
      this.ctx,
      host,
      `TZ=UTC nohup timeout 200 ip -ts -4 monitor address dev ${IFACE} >${this.file} 2>&1 </dev/null &
echo "pid $!"; sleep 0.1; ip -o -4 address show dev ${IFACE}`,
    );
    const at = Date.now();
    this.pids.set(host, /pid (\d+)/.exec(out)![1]);
    this.events.push({ host, at, held: out.includes(` ${this.ctx.vip}/`) });
  }

  /** A host that died: it holds nothing from `at` on (its monitor died with it). */
  dead(host: string, at: number): void {
    this.pids.delete(host);
    this.events.push({ host, at, held: false });
  }

  private parse(host: string, text: string): VipEvent[] {
    const evs: VipEvent[] = [];
    for (const line of text.split("\n")) {
      const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d*\] (Deleted )?.* inet (\S+)\//.exec(line);
      if (m && m[3] === this.ctx.vip) evs.push({ host, at: Date.parse(`${m[1]}Z`), held: !m[2] });
    }
    return evs;
  }

  /** Every event so far (monitors keep running). */
  async peek(): Promise<Timeline> {
    const more = await Promise.all(
      [...this.pids.keys()].map(async (h) => this.parse(h, await must(this.ctx, h, `cat ${this.file}`))),
    );
    return new Timeline([...this.events, ...more.flat()]);
  }

  async stop(): Promise<Timeline> {
    const more = await Promise.all(
      [...this.pids.entries()].map(async ([h, pid]) => {
        if (!this.ctx.lab.hosts.find((x) => x.name === h)?.running) return [];
        const out = await must(this.ctx, h, `kill ${pid} 2>/dev/null; cat ${this.file}; rm -f ${this.file}`);
        return this.parse(h, out);
      }),
    );
    this.pids.clear();
    return new Timeline([...this.events, ...more.flat()]);
  }
}

/** The VIP's holders over time, from the watch's events. */
class Timeline {
  /** State changes only (an event that repeats a host's state is dropped), in time order. */
  readonly changes: VipEvent[] = [];

  constructor(events: VipEvent[]) {
    const held = new Set<string>();
    for (const e of [...events].sort((a, b) => a.at - b.at)) {
      if (e.held === held.has(e.host)) continue;
      if (e.held) held.add(e.host);
      else held.delete(e.host);
      this.changes.push(e);
    }
  }

  private acquisitions(from: number, to = Infinity): VipEvent[] {
    return this.changes.filter((e) => e.held && e.at >= from && e.at <= to);
  }

  /** VIP moves: a host that did not hold the VIP takes it, in [from, to]. */
  moves(from: number, to: number): number {
    return this.acquisitions(from, to).length;
  }

  /** The first time at or after `from` that a host other than `except` took the VIP. */
  firstAcquired(from: number, except?: string): number | undefined {
    return this.acquisitions(from).find((e) => e.host !== except)?.at;
  }

  /** The time of the last move in [from, to]. */
  lastMove(from: number, to: number): number | undefined {
    return this.acquisitions(from, to).pop()?.at;
  }

  /**
   * When the holders became exactly one for good within [from, to]: the last change in the window if one
   * host holds the VIP at `to` (`from` if nothing changed); undefined if not exactly one holds it then.
   */
  settledAt(from: number, to: number): number | undefined {
    const held = new Set<string>();
    let last: number | undefined;
    for (const e of this.changes.filter((x) => x.at <= to)) {
      if (e.held) held.add(e.host);
      else held.delete(e.host);
      if (e.at >= from) last = e.at;
    }
    return held.size === 1 ? (last ?? from) : undefined;
  }
}

// ---- load, requests ----

/**
 * `burners` bounded busy loops inside each host (by default two if the profile runs under CPU load, else
 * none); returns a function that ends them (by pid).
 */
async function cpuLoad(
  ctx: Ctx,
  hosts: string[],
  seconds: number,
  burners = ctx.profile.cpuLoad ? 2 : 0,
): Promise<() => Promise<void>> {
  if (burners === 0) return async () => undefined;
  const started = await Promise.all(
    hosts.map(async (h) => {
      const out = await must(
        ctx,
        h,
        `for i in $(seq ${burners}); do nohup timeout ${seconds} sh -c 'while :; do :; done' >/dev/null 2>&1 </dev/null & echo $!; done`,
      );
      return { h, pids: out.trim().split(/\s+/).join(" ") };
    }),
  );
  return async () => {
    await Promise.all(
      started
        .filter(({ h }) => ctx.lab.hosts.find((x) => x.name === h)?.running)
        .map(({ h, pids }) => exec(ctx.lab, h, `kill ${pids} 2>/dev/null || true`)),
    );
  };
}

function failedPct(results: ProbeResult[], from: number, to: number): number {
  const inWindow = results.filter((r) => r.at >= from && r.at < to);
  if (inWindow.length === 0) return 100;
  return (100 * inWindow.filter((r) => !r.ok).length) / inWindow.length;
}

/**
 * The longest stretch of failing requests among those started in [from, to): from a failed request's
 * start (the first of a run of failures, by start time) to the end of the first success started after
 * the run's last failure; 0 if none failed. Censored at `to` if no success followed.
 */
function longestFailure(results: ProbeResult[], from: number, to: number): { ms: number; censored: boolean } {
  const rs = results.filter((r) => r.at >= from && r.at < to).sort((a, b) => a.at - b.at);
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
function firstOkEnd(results: ProbeResult[], after: number): number | undefined {
  const ends = results.filter((r) => r.ok && r.at + r.ms >= after).map((r) => r.at + r.ms);
  return ends.length ? Math.min(...ends) : undefined;
}

/** The slowest request started in [from, to) (a failed one counts with its time until it failed). */
function slowest(results: ProbeResult[], from: number, to: number): number {
  return Math.max(0, ...results.filter((r) => r.at >= from && r.at < to).map((r) => r.ms));
}

/** The distinct errors of the failed requests started in [from, to). */
const errorsOf = (rs: ProbeResult[], from: number, to: number) => [
  ...new Set(rs.filter((r) => !r.ok && r.at >= from && r.at < to).map((r) => r.error ?? "")),
];

/**
 * For the progress log: this machine's neighbour (ARP) entry for the VIP over time, from `t0`. Clients
 * reach the new holder only once their entry names its MAC (keepalived's gratuitous ARPs).
 */
function traceNeighbour(ctx: Ctx, t0: number): () => Promise<string[]> {
  const seen: string[] = [];
  let stop = false;
  const loop = (async () => {
    let last = "";
    while (!stop && Date.now() - t0 < 60_000) {
      const n = (await promisify(execFile)("ip", ["neigh", "show", ctx.vip])).stdout.trim();
      if (n !== last) seen.push(`+${Date.now() - t0} ${(last = n)}`);
      await sleep(50);
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return seen;
  };
}

// ---- scenarios ----

/** 3: the stand-in stopped on a non-holder. */
async function backendDeath(ctx: Ctx, holder: string): Promise<Figure> {
  const victim = running(ctx).find((h) => h !== holder)!;
  const watch = await VipWatch.start(ctx, "s3", running(ctx));
  const unload = await cpuLoad(ctx, running(ctx), Math.ceil(ctx.profile.backendDownBoundMs / 1000) + 10);
  const probe = new Prober(ctx.url, ctx.ca).start();
  try {
    await sleep(PRE_FAULT_MS);
    const t0 = Date.now();
    await must(ctx, victim, `systemctl stop ${STANDIN}`);
    let down: number | undefined;
    while (Date.now() - t0 < ctx.profile.backendDownBoundMs) {
      down ??= await markedDownAt(ctx, holder, victim, t0);
      if (down !== undefined && Date.now() - t0 >= MIN_WINDOW_MS) break;
      await sleep(500);
    }
    const end = Math.max(t0 + MIN_WINDOW_MS, down ?? t0);
    await sleep(Math.max(0, end - Date.now()));
    const { maxLagMs } = await probe.stop();
    const tl = await watch.stop();
    const rec = longestFailure(probe.results, t0, end);
    return {
      failoverMs: rec.ms,
      failoverCensored: rec.censored,
      failedPct: failedPct(probe.results, t0, end),
      moves: tl.moves(t0, end),
      extras: {
        down: down === undefined ? { v: ctx.profile.backendDownBoundMs, c: true } : { v: down - t0 },
        slowest: { v: slowest(probe.results, t0, end) },
      },
      errors: errorsOf(probe.results, t0, end),
      lagMs: maxLagMs,
    };
  } finally {
    await probe.stop();
    await unload();
    await must(ctx, victim, `systemctl start ${STANDIN}`);
  }
}

/** 2: the stand-in stopped on the holder. */
async function apiServerDeath(ctx: Ctx, holder: string): Promise<Figure> {
  const watch = await VipWatch.start(ctx, "s2", running(ctx));
  const unload = await cpuLoad(ctx, running(ctx), Math.ceil(ctx.profile.apiDeathWatchMs / 1000) + 10);
  const probe = new Prober(ctx.url, ctx.ca).start();
  try {
    await sleep(PRE_FAULT_MS);
    const t0 = Date.now();
    await must(ctx, holder, `systemctl stop ${STANDIN}`);
    let moved: number | undefined;
    while (Date.now() - t0 < ctx.profile.apiDeathWatchMs) {
      if (ctx.profile.apiDeathWatchMs > MIN_WINDOW_MS)
        moved ??= (await watch.peek()).firstAcquired(t0, holder);
      if (Date.now() - t0 >= MIN_WINDOW_MS && (moved === undefined ? false : Date.now() - moved >= 1000))
        break;
      await sleep(500);
    }
    const end = Date.now();
    const { maxLagMs } = await probe.stop();
    const tl = await watch.stop();
    moved = tl.firstAcquired(t0, holder);
    const rec = longestFailure(probe.results, t0, end);
    return {
      failoverMs: rec.ms,
      failoverCensored: rec.censored,
      failedPct: failedPct(probe.results, t0, end),
      moves: tl.moves(t0, end),
      extras: moved === undefined ? {} : { moved: { v: moved - t0 } },
      errors: errorsOf(probe.results, t0, end),
      lagMs: maxLagMs,
    };
  } finally {
    await probe.stop();
    await unload();
    await must(ctx, holder, `systemctl start ${STANDIN}`);
  }
}

/** 4: keepalived SIGKILL on the holder. */
async function keepalivedKill(ctx: Ctx, holder: string): Promise<Figure> {
  const watch = await VipWatch.start(ctx, "s4", running(ctx));
  const unload = await cpuLoad(ctx, running(ctx), KILL_WINDOW_MS / 1000 + 10);
  const probe = new Prober(ctx.url, ctx.ca).start();
  try {
    await sleep(PRE_FAULT_MS);
    const t0 = Date.now();
    await must(ctx, holder, "systemctl kill -s KILL keepalived");
    await sleep(Math.max(0, t0 + KILL_HOLDERS_AT_MS - Date.now()));
    const at2s = (await holders(ctx)).length;
    await sleep(Math.max(0, t0 + KILL_WINDOW_MS - Date.now()));
    const end = Date.now();
    const atEnd = (await holders(ctx)).length;
    const { maxLagMs } = await probe.stop();
    const tl = await watch.stop();
    const settled = tl.settledAt(t0, end);
    return {
      failoverMs: settled === undefined ? end - t0 : settled - t0,
      failoverCensored: settled === undefined,
      failedPct: failedPct(probe.results, t0, end),
      moves: tl.moves(t0, end),
      extras: { at2s: { v: at2s }, atEnd: { v: atEnd } },
      errors: errorsOf(probe.results, t0, end),
      lagMs: maxLagMs,
    };
  } finally {
    await probe.stop();
    await unload();
    if (ctx.distributionKeepalived) {
      // The distribution's unit does not restart keepalived, and the killed one left the VIP on the
      // interface: the operator's cleanup, then a start (not measured).
      await must(
        ctx,
        holder,
        `ip address del ${ctx.vip}/32 dev ${IFACE} 2>/dev/null || true
rm -f /run/keepalived.pid /run/vrrp.pid /run/checkers.pid /run/keepalived/*.pid
systemctl reset-failed keepalived 2>/dev/null || true
systemctl start keepalived`,
      );
    }
  }
}

/**
 * keepalived's "Entering MASTER STATE" lines on the running hosts between `from` and `to`, in whole
 * seconds of the journal (from the first whole second at or after `from`: nothing before it counts).
 */
async function masterTransitions(ctx: Ctx, from: number, to: number): Promise<number> {
  const counts = await Promise.all(
    running(ctx).map(async (h) => {
      const out = await must(
        ctx,
        h,
        `journalctl -u keepalived -o cat --no-pager --since=@${Math.ceil(from / 1000)} --until=@${Math.ceil(to / 1000)} | grep -c 'Entering MASTER STATE' || true`,
      );
      return Number(out.trim()) || 0;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * 6: no fault while every host runs HEAVY_BURNERS busy loops (18 on two cores): a VIP move or a MASTER
 * transition here is a flap (late advertisements taken for a dead holder).
 */
async function idleUnderLoad(ctx: Ctx): Promise<Figure> {
  const watch = await VipWatch.start(ctx, "s6", running(ctx));
  const unload = await cpuLoad(ctx, running(ctx), IDLE_WINDOW_MS / 1000 + 10, HEAVY_BURNERS);
  const probe = new Prober(ctx.url, ctx.ca).start();
  try {
    const t0 = Date.now();
    await sleep(IDLE_WINDOW_MS);
    const end = Date.now();
    const { maxLagMs } = await probe.stop();
    const tl = await watch.stop();
    const masters = await masterTransitions(ctx, t0, end);
    return {
      failedPct: failedPct(probe.results, t0, end),
      moves: tl.moves(t0, end),
      extras: { masters: { v: masters } },
      errors: errorsOf(probe.results, t0, end),
      lagMs: maxLagMs,
    };
  } finally {
    await probe.stop();
    await unload();
  }
}

/** 1 and 5: the holder powered off, then on again. */
async function hostDeathAndReturn(ctx: Ctx, holder: string): Promise<[Figure, Figure]> {
  const watch = await VipWatch.start(ctx, "s1", running(ctx));
  const loadSeconds = (FAILOVER_BOUND_MS + RETURN_WINDOW_MS) / 1000 + 30;
  const unload = await cpuLoad(ctx, running(ctx), loadSeconds);
  let unloadReturned = async () => undefined as void;
  const probe = new Prober(ctx.url, ctx.ca).start();
  try {
    await sleep(PRE_FAULT_MS);
    const t0 = Date.now();
    const neighbour = traceNeighbour(ctx, t0);
    await powerOff(ctx.lab, holder);
    watch.dead(holder, t0);
    // 1: until another host holds the VIP and a request through it succeeded (and 6 s at least).
    let acquired: number | undefined;
    let ok: number | undefined;
    while (Date.now() - t0 < FAILOVER_BOUND_MS) {
      acquired ??= (await watch.peek()).firstAcquired(t0, holder);
      if (acquired !== undefined) ok ??= firstOkEnd(probe.results, acquired);
      if (ok && Date.now() - t0 >= HOST_DEATH_WINDOW_MS) break;
      await sleep(250);
    }
    const end1 = Math.max(t0 + HOST_DEATH_WINDOW_MS, ok ?? Date.now());
    // 5: power on; watch until 20 s after the host is ready.
    const t5 = Date.now();
    await powerOn(ctx.lab, holder);
    const ready = Date.now();
    await watch.add(holder);
    unloadReturned = await cpuLoad(ctx, [holder], RETURN_WINDOW_MS / 1000 + 10);
    await sleep(Math.max(0, t5 + RETURN_WINDOW_MS - Date.now()));
    const end5 = Date.now();
    const { maxLagMs } = await probe.stop();
    const tl = await watch.stop();
    acquired = tl.firstAcquired(t0, holder);
    ok = acquired === undefined ? undefined : firstOkEnd(probe.results, acquired);
    const failover = ok === undefined ? undefined : ok - t0;
    const last = tl.lastMove(t5, end5);
    const s1: Figure = {
      failoverMs: failover ?? FAILOVER_BOUND_MS,
      failoverCensored: failover === undefined,
      failedPct: failedPct(probe.results, t0, t0 + HOST_DEATH_WINDOW_MS),
      moves: tl.moves(t0, end1),
      extras: {
        acquired: acquired === undefined ? { v: FAILOVER_BOUND_MS, c: true } : { v: acquired - t0 },
        slowest: { v: slowest(probe.results, t0, t0 + HOST_DEATH_WINDOW_MS) },
      },
      errors: errorsOf(probe.results, t0, t0 + HOST_DEATH_WINDOW_MS),
      lagMs: maxLagMs,
    };
    const s5: Figure = {
      failoverMs: last === undefined ? undefined : last - t5,
      failedPct: failedPct(probe.results, t5, end5),
      moves: tl.moves(t5, end5),
      errors: errorsOf(probe.results, t5, end5),
      lagMs: maxLagMs,
    };
    ctx.log(`      (${holder} was ready ${((ready - t5) / 1000).toFixed(1)} s after power-on)`);
    const trace = await neighbour();
    if (process.env.HAKUBE_BENCH_VIP_DEBUG || s1.failoverCensored || s1.failoverMs! > 3000) {
      const macs = new Map<string, string>();
      for (const h of running(ctx))
        macs.set((await must(ctx, h, `cat /sys/class/net/${IFACE}/address`)).trim(), h);
      const named = trace.map((t) =>
        t.replace(/lladdr (\S+)/, (m, mac: string) => `lladdr ${macs.get(mac) ?? mac}`),
      );
      ctx.log(`      neighbour entry for the VIP here: ${named.join(" | ")}`);
      const odd = probe.results.filter((x) => x.at >= t0 - 500 && (!x.ok || x.ms > 200));
      for (const r of [...odd.slice(0, 4), ...odd.slice(4).slice(-2)])
        ctx.log(`      request at +${r.at - t0} ms: ${r.ok ? "ok" : r.error} after ${r.ms} ms`);
      if (odd.length > 6) ctx.log(`      (${odd.length} failed or slower than 200 ms in all)`);
      for (const e of tl.changes.filter((x) => x.at >= t0 - 1000))
        ctx.log(`      vip ${e.held ? "+" : "-"} ${e.host} at +${e.at - t0} ms`);
    }
    return [s1, s5];
  } finally {
    await probe.stop();
    await unload();
    await unloadReturned();
  }
}

// ---- profiles on the lab ----

/** Writes the anchor's files on every master over SSH and (re)starts what it replaces. */
export async function applyAnchor(ctx: Ctx, kind: AnchorKind): Promise<void> {
  const { keepalived, haproxy } = anchorReplaces(kind);
  const site: AnchorSite = {
    hosts: ctx.lab.hosts.map((h) => ({ name: h.name, address: h.address })),
    vip: ctx.vip,
    port: PORT,
    interface: IFACE,
    virtualRouterId: 51,
    apiCaFile: STANDIN_CA,
    scriptUser: "keepalived_script",
  };
  const sshMust = async (host: string, cmd: string) => {
    const r = await ssh(ctx.lab, host, cmd, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: anchor ${kind}: rc ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  // keepalived off everywhere first, so that hakube's VRRPv3 members never meet the anchor's.
  if (keepalived) await Promise.all(site.hosts.map((h) => sshMust(h.name, "systemctl stop keepalived")));
  for (const [i, h] of site.hosts.entries()) {
    const writes = anchorFiles(kind, site, i, DEFAULT_HAPROXY_HEALTH_PORT).map((f) =>
      heredoc(`install -m ${f.mode} /dev/stdin ${f.path}`, f.content),
    );
    const steps = ["set -eu", ...writes];
    if (haproxy) {
      steps.push("haproxy -c -q -f /etc/haproxy/haproxy.cfg", "systemctl restart haproxy");
    }
    if (keepalived) {
      // The distribution's keepalived.service again (the anchors run it as their guides say: enable --now).
      steps.push(
        "rm -f /etc/systemd/system/keepalived.service /etc/keepalived/hakube-check.sh",
        "systemctl daemon-reload",
        "systemctl enable --now keepalived",
      );
    }
    const out = await sshMust(h.name, steps.join("\n"));
    if (out.trim()) ctx.log(`      ${h.name}: ${out.trim()}`);
  }
}

async function benchProfile(
  p: VipProfile,
  tries: number,
  log: (l: string) => void,
  deadline: number,
): Promise<Record<Scenario["key"], Figure[]>> {
  const figs: Record<Scenario["key"], Figure[]> = { s1: [], s2: [], s3: [], s4: [], s5: [], s6: [] };
  await destroyLab(LAB);
  const t0 = Date.now();
  const r = await deploy({ lab: LAB, subnetIndex: SUBNET, masters: 3, vipTiming: p.vipTiming });
  const ctx: Ctx = {
    lab: r.lab,
    vip: r.api!.vip,
    url: `https://${r.api!.vip}:${PORT}/readyz`,
    ca: r.api!.caCertPem,
    profile: p,
    since: Date.now(),
    distributionKeepalived: p.anchor !== undefined && anchorReplaces(p.anchor).keepalived,
    log,
  };
  if (p.anchor) {
    await applyAnchor(ctx, p.anchor);
    ctx.since = Date.now();
  }
  log(`  ${p.id}: deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const show = (f: Figure, sc: Scenario) =>
    `failover ${f.failoverMs === undefined ? "-" : `${f.failoverCensored ? ">=" : ""}${(f.failoverMs / 1000).toFixed(2)} s`}, failed ${f.failedPct.toFixed(1)} %, moves ${f.moves}` +
    (sc.extras ?? [])
      .filter((x) => f.extras?.[x.key] !== undefined)
      .map((x) => {
        const e = f.extras![x.key];
        return `, ${x.label} ${e.c ? ">=" : ""}${x.unit === "s" ? (e.v / 1000).toFixed(2) : e.v}`;
      })
      .join("") +
    (f.errors?.length ? ` [${f.errors.slice(0, 3).join("; ")}]` : "") +
    (f.lagMs !== undefined && f.lagMs > 100 ? ` (this process stalled up to ${Math.round(f.lagMs)} ms)` : "");
  const scen = (k: Scenario["key"]) => SCENARIOS.find((s) => s.key === k)!;
  for (let i = 1; i <= tries; i++) {
    if (Date.now() > deadline) throw new Error(`the run took longer than ${RUN_BOUND_MS / 60_000} min`);
    const tryStart = Date.now();
    const run = async (
      k: Scenario["key"],
      backends: BackendsUp,
      noFault: boolean,
      f: (holder: string) => Promise<Figure>,
    ) => {
      const holder = await steady(ctx, backends, noFault);
      const fig = await f(holder);
      figs[k].push(fig);
      log(`    ${p.id} try ${i}/${tries} ${scen(k).title} on ${holder}: ${show(fig, scen(k))}`);
    };
    // Order: what leaves slow recoveries behind (Platform9's FAULT after 2, kubespray's rise 2 x 15 s
    // after 3) goes before what does not need them recovered (4 needs no backend state; 3 only the
    // holder's view of the victim).
    await run("s2", "holder", true, (h) => apiServerDeath(ctx, h));
    await run("s3", "holder", false, (h) => backendDeath(ctx, h));
    await run("s4", "none", false, (h) => keepalivedKill(ctx, h));
    await run("s6", "all", true, () => idleUnderLoad(ctx));
    const holder = await steady(ctx, "all", true);
    const [s1, s5] = await hostDeathAndReturn(ctx, holder);
    figs.s1.push(s1);
    figs.s5.push(s5);
    log(`    ${p.id} try ${i}/${tries} ${scen("s1").title} on ${holder}: ${show(s1, scen("s1"))}`);
    log(`    ${p.id} try ${i}/${tries} ${scen("s5").title} (${holder}): ${show(s5, scen("s5"))}`);
    log(`    ${p.id} try ${i}/${tries} took ${((Date.now() - tryStart) / 1000).toFixed(0)} s`);
  }
  return figs;
}

// ---- the table ----

interface Stat {
  median: number;
  min: number;
  max: number;
  /** The median, min or max is a bound (the thing did not happen in time). */
  medianCensored: boolean;
  minCensored: boolean;
  maxCensored: boolean;
}

function stat(values: Array<{ v: number; c?: boolean }>): Stat | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a.v - b.v || Number(!!a.c) - Number(!!b.c));
  const m = Math.floor(s.length / 2);
  const mid = s.length % 2 ? [s[m]] : [s[m - 1], s[m]];
  return {
    median: median(s.map((x) => x.v)),
    min: s[0].v,
    max: s[s.length - 1].v,
    medianCensored: mid.some((x) => x.c),
    minCensored: !!s[0].c,
    maxCensored: !!s[s.length - 1].c,
  };
}

export interface VipRow {
  scenario: Scenario;
  profile: string;
  figures: Figure[];
}

/**
 * The wide table of this suite (lab/bench/stats.ts `table` has one metric per row): per scenario and
 * profile, median/min/max of the failover time, of the failed share and of the VIP moves, and the
 * scenario's extra figure. ">=" marks a bound: the thing had not happened when the watch ended.
 */
export function vipTable(rows: VipRow[]): string {
  const sec = (v: number, c = false) => `${c ? "≥" : ""}${(v / 1000).toFixed(2)}`;
  const three = (s: Stat | undefined, f: (v: number, c?: boolean) => string) =>
    s ? [f(s.median, s.medianCensored), f(s.min, s.minCensored), f(s.max, s.maxCensored)] : ["-", "-", "-"];
  const lines = [
    "| scenario | profile | failover (s) median | min | max | failed requests (%) median | min | max | VIP moves median | min | max | extra: median (min-max) | tries |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const fo = stat(
      r.figures
        .filter((f) => f.failoverMs !== undefined)
        .map((f) => ({ v: f.failoverMs!, c: f.failoverCensored })),
    );
    const fp = stat(r.figures.map((f) => ({ v: f.failedPct })));
    const mv = stat(r.figures.map((f) => ({ v: f.moves })));
    const extra = (r.scenario.extras ?? [])
      .map((x) => {
        const got = r.figures.map((f) => f.extras?.[x.key]).filter((e) => e !== undefined);
        const st = stat(got);
        const fmt = (v: number, c = false) =>
          x.unit === "s" ? sec(v, c) : `${c ? "≥" : ""}${Math.round(v * 10) / 10}`;
        if (!st) return `${x.label}: never`;
        const some = got.length < r.figures.length ? `, in ${got.length} of ${r.figures.length}` : "";
        return `${x.label}: ${fmt(st.median, st.medianCensored)} (${fmt(st.min, st.minCensored)}-${fmt(st.max, st.maxCensored)})${some}`;
      })
      .join("; ");
    const foNote =
      fo && fo.min >= 0 && r.figures.some((f) => f.failoverMs === undefined)
        ? ` (${r.figures.filter((f) => f.failoverMs !== undefined).length} of ${r.figures.length})`
        : "";
    const foCells = three(fo, sec);
    foCells[0] += foNote;
    lines.push(
      `| ${r.scenario.title} | ${r.profile} | ${foCells.join(" | ")} | ${three(fp, (v) => v.toFixed(1)).join(" | ")} | ${three(mv, (v) => String(Math.round(v * 10) / 10)).join(" | ")} | ${extra} | ${r.figures.length} |`,
    );
  }
  return lines.join("\n");
}

/** What each column means per scenario, printed under the table. */
export function vipLegend(): string {
  return SCENARIOS.map(
    (s) =>
      `- ${s.title}: failover = ${s.failover}; failed = ${s.window}; VIP moves = a host takes the VIP in that window.`,
  ).join("\n");
}

function selectedProfiles(): VipProfile[] {
  const want = process.env.HAKUBE_BENCH_VIP_PROFILES?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!want) return VIP_PROFILES;
  const unknown = want.filter((id) => !VIP_PROFILES.some((p) => p.id === id));
  if (unknown.length)
    throw new Error(
      `HAKUBE_BENCH_VIP_PROFILES names ${unknown.join(", ")}; have ${VIP_PROFILES.map((p) => p.id).join(", ")}`,
    );
  return VIP_PROFILES.filter((p) => want.includes(p.id));
}

/**
 * The suite. It prints its own wide table (with a heading and a legend) to stdout and returns no
 * stats.ts rows: that table has one metric per row, this one three per row.
 */
export async function benchVip(tries: number, log: (l: string) => void): Promise<Row[]> {
  const profiles = selectedProfiles();
  const started = Date.now();
  const deadline = started + RUN_BOUND_MS;
  const results = new Map<string, Record<Scenario["key"], Figure[]>>();
  await withLab(LAB, async () => {
    for (const p of profiles) {
      log(`  profile ${p.id}: ${p.name}`);
      results.set(p.id, await benchProfile(p, tries, log, deadline));
    }
  });
  const rows: VipRow[] = SCENARIOS.flatMap((scenario) =>
    profiles.map((p) => ({ scenario, profile: p.name, figures: results.get(p.id)![scenario.key] })),
  );
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(
    `\n### vip (${tries} tries per profile, ${new Date().toISOString().slice(0, 10)}, ${minutes} min)\n\n${vipTable(rows)}\n\n${vipLegend()}\n`,
  );
  log(`suite vip: done in ${minutes} min`);
  return [];
}
