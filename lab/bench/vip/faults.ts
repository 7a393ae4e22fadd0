/**
 * Scenarios 2, 3, 4 and 6 of the VIP benchmark: kube-apiserver stopped on the holder or on another master
 * (the kubeadm way: its static pod manifest parked, so the kubelet stops it), keepalived SIGKILLed on the
 * holder, and no fault under heavy CPU load. Each watches the VIP (`ip monitor`) and sends the request
 * loop through it, and puts back what it broke (the steady state before the next waits for the rest).
 */
import { parkStaticPods, unparkStaticPods } from "../../cluster";
import { sleep } from "../../hosts/run";
import { cpuLoad, must } from "../onhost";
import { errorsOf, failedPct, longestFailure, slowest, startReads } from "../requests";
import { LAB_IFACE, VipWatch } from "./monitor";
import { W } from "./profiles";
import { Figure } from "./scenarios";
import { Ctx, holders, markedDownAt, masterTransitions, running } from "./steady";
import { Timeline } from "./timeline";
import { Prober } from "../../probe";

/** What every scenario runs with: the VIP watch, the profile's CPU load, and the requests. */
export interface Harness {
  watch: VipWatch;
  probe: Prober;
  unload: () => Promise<void>;
}

/** Starts the watch on the running masters, `burners` busy loops in each for `seconds`, and the reads. */
export async function harness(ctx: Ctx, tag: string, seconds: number, burners?: number): Promise<Harness> {
  const watch = await VipWatch.start(ctx.lab, ctx.vip, tag, running(ctx));
  const unload = await cpuLoad(
    ctx.lab,
    running(ctx),
    seconds,
    burners ?? (ctx.profile.cpuLoad ? W.loadBurners : 0),
  );
  return { watch, unload, probe: startReads(ctx.creds) };
}

/** The figures every scenario has, over the requests started in [t0, end). */
export async function finish(
  h: Harness,
  t0: number,
  end: number,
): Promise<{ tl: Timeline; base: Pick<Figure, "failedPct" | "moves" | "errors" | "lagMs"> }> {
  const { maxLagMs } = await h.probe.stop();
  const tl = await h.watch.stop();
  const rs = h.probe.results;
  return {
    tl,
    base: {
      failedPct: failedPct(rs, t0, end),
      moves: tl.moves(t0, end),
      errors: errorsOf(rs, t0, end),
      lagMs: maxLagMs,
    },
  };
}

/** How a scenario runs: its fault (none: measure at once), what it watches and what it puts back. */
export interface Steps {
  tag: string;
  /** How long the CPU load may last at most (it is ended when the scenario ends). */
  loadSeconds: number;
  /** Busy loops per master: the profile's by default. */
  burners?: number;
  /** The fault; it may return when exactly it struck (else: when it was started). */
  fault?: () => Promise<number | void>;
  /** From the fault (t0) on: watches, then stops the harness and returns the figure. */
  watch: (h: Harness, t0: number) => Promise<Figure>;
  restore?: () => Promise<void>;
}

/** Runs a scenario: harness, W.preFault of requests, the fault, the watch; then puts things back. */
export async function runScenario(ctx: Ctx, steps: Steps): Promise<Figure> {
  const h = await harness(ctx, steps.tag, steps.loadSeconds, steps.burners);
  try {
    if (steps.fault) await sleep(W.preFault);
    const started = Date.now();
    const struck = await steps.fault?.();
    return await steps.watch(h, typeof struck === "number" ? struck : started);
  } finally {
    await h.probe.stop();
    await h.unload();
    await steps.restore?.();
  }
}

/** Scenarios 2 and 3: the longest stretch of failing requests in [t0, end), and the common figures. */
async function failureStretch(h: Harness, t0: number, end: number) {
  const { tl, base } = await finish(h, t0, end);
  const rec = longestFailure(h.probe.results, t0, end);
  return { tl, figure: { ...base, failoverMs: rec.ms, failoverCensored: rec.censored } };
}

/** Scenarios 2 and 3: kube-apiserver's manifest parked on `host` (and put back), watched by `watch`. */
function parkedApiServer(ctx: Ctx, host: string, tag: string, boundMs: number, watch: Steps["watch"]) {
  return runScenario(ctx, {
    tag,
    loadSeconds: Math.ceil(boundMs / 1000) + 10,
    fault: () => parkStaticPods(ctx.lab, host, ["kube-apiserver"]),
    restore: () => unparkStaticPods(ctx.lab, host),
    watch,
  });
}

/** Calls `step` every 500 ms until it returns true or `boundMs` passed since `t0`. */
async function pollFrom(t0: number, boundMs: number, step: () => Promise<boolean>): Promise<void> {
  while (Date.now() - t0 < boundMs && !(await step())) await sleep(500);
}

/** 3: kube-apiserver stopped on a non-holder. */
export function backendDeath(ctx: Ctx, holder: string): Promise<Figure> {
  const victim = running(ctx).find((h) => h !== holder)!;
  const bound = ctx.profile.backendDownBoundMs;
  return parkedApiServer(ctx, victim, "s3", bound, async (h, t0) => {
    let down: number | undefined;
    await pollFrom(t0, bound, async () => {
      down ??= await markedDownAt(ctx, holder, victim, t0);
      return down !== undefined && Date.now() - t0 >= W.min;
    });
    const end = Math.max(t0 + W.min, down ?? t0);
    await sleep(Math.max(0, end - Date.now()));
    const { figure } = await failureStretch(h, t0, end);
    return {
      ...figure,
      extras: {
        down: down === undefined ? { v: bound, c: true } : { v: down - t0 },
        slowest: { v: slowest(h.probe.results, t0, end) },
      },
    };
  });
}

/** 2: kube-apiserver stopped on the holder. */
export function apiServerDeath(ctx: Ctx, holder: string): Promise<Figure> {
  const bound = ctx.profile.apiDeathWatchMs;
  return parkedApiServer(ctx, holder, "s2", bound, async (h, t0) => {
    let moved: number | undefined;
    await pollFrom(t0, bound, async () => {
      // Only a watch longer than the minimum waits for a move (Platform9's check asks the API server).
      if (bound > W.min) moved ??= (await h.watch.peek()).firstAcquired(t0, holder);
      return Date.now() - t0 >= W.min && moved !== undefined && Date.now() - moved >= 1000;
    });
    const { tl, figure } = await failureStretch(h, t0, Date.now());
    moved = tl.firstAcquired(t0, holder);
    const extras: Figure["extras"] = moved === undefined ? {} : { moved: { v: moved - t0 } };
    return { ...figure, extras };
  });
}

/** 4: keepalived SIGKILL on the holder. */
export function keepalivedKill(ctx: Ctx, holder: string): Promise<Figure> {
  return runScenario(ctx, {
    tag: "s4",
    loadSeconds: W.kill / 1000 + 10,
    fault: async () => void (await must(ctx.lab, holder, "systemctl kill -s KILL keepalived")),
    watch: async (h, t0) => {
      await sleep(Math.max(0, t0 + W.killHoldersAt - Date.now()));
      const at2s = (await holders(ctx)).length;
      await sleep(Math.max(0, t0 + W.kill - Date.now()));
      const end = Date.now();
      const atEnd = (await holders(ctx)).length;
      const { tl, base } = await finish(h, t0, end);
      const settled = tl.settledAt(t0, end);
      return {
        ...base,
        failoverMs: settled === undefined ? end - t0 : settled - t0,
        failoverCensored: settled === undefined,
        extras: { at2s: { v: at2s }, atEnd: { v: atEnd } },
      };
    },
    // The distribution's unit does not restart keepalived, and the killed one left the VIP on the
    // interface: the operator's cleanup, then a start (not measured).
    restore: async () => {
      if (!ctx.distributionKeepalived) return;
      await must(
        ctx.lab,
        holder,
        `ip address del ${ctx.vip}/32 dev ${LAB_IFACE} 2>/dev/null || true
rm -f /run/keepalived.pid /run/vrrp.pid /run/checkers.pid /run/keepalived/*.pid
systemctl reset-failed keepalived 2>/dev/null || true
systemctl start keepalived`,
      );
    },
  });
}

/**
 * 6: no fault while every master runs W.heavyBurners busy loops (18 on two cores): a VIP move or a MASTER
 * transition here is a flap (late advertisements taken for a dead holder).
 */
export function idleUnderLoad(ctx: Ctx): Promise<Figure> {
  return runScenario(ctx, {
    tag: "s6",
    loadSeconds: W.idle / 1000 + 10,
    burners: W.heavyBurners,
    watch: async (h, t0) => {
      await sleep(W.idle);
      const end = Date.now();
      const { base } = await finish(h, t0, end);
      return { ...base, extras: { masters: { v: await masterTransitions(ctx, t0, end) } } };
    },
  });
}
