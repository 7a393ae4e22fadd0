/**
 * The VIP benchmark's lab context, what it reads back from the masters (HAProxy's and keepalived's
 * journals) and the steady state every scenario starts from.
 */
import { addressHolders, Lab, powerOn } from "../../hosts";
import { sleep } from "../../hosts/run";
import { apiRequest, KubeCredentials } from "../../kubeapi";
import { clusterProblem, restoreCluster } from "../kube";
import { must, runningOf } from "../onhost";
import { READ_PATH } from "../requests";
import { VipProfile, W } from "./profiles";

export interface Ctx {
  lab: Lab;
  vip: string;
  /** HaControlPlane's kubeconfig: the requests through the VIP present its client certificate. */
  creds: KubeCredentials;
  /** The masters (VIP members, HAProxy and kube-apiserver hosts) and every node. */
  masters: string[];
  nodes: string[];
  profile: VipProfile;
  /** Journals are read from here on (the anchor's configuration in place). */
  since: number;
  /** The keepalived unit: hakube's (restarts, releases the VIP) or the distribution's (anchors). */
  distributionKeepalived: boolean;
  log: (l: string) => void;
}

/** The masters that run now. */
export const running = (ctx: Ctx): string[] => runningOf(ctx.lab, ctx.masters);

/** The running hosts that have the VIP on their interface. */
export const holders = (ctx: Ctx): Promise<string[]> => addressHolders(ctx.lab, ctx.vip);

/** An authenticated read through the VIP succeeds. */
export const vipAnswers = async (ctx: Ctx): Promise<boolean> =>
  (await apiRequest(ctx.creds, "GET", READ_PATH, undefined, 2000)).status === 200;

/** A host's journal of `unit` since `sinceMs` (whole seconds), one line per entry with its unix time. */
async function journal(ctx: Ctx, host: string, unit: string, sinceMs: number, until = ""): Promise<string> {
  return must(
    ctx.lab,
    host,
    `journalctl -u ${unit} -o short-unix --no-pager --since=@${Math.floor(sinceMs / 1000)}${until}`,
    10_000,
  );
}

/** HAProxy's "Server <proxy>/<server> is UP|DOWN" lines: [unix ms, server, state]. */
function serverStates(text: string): Array<[number, string, string]> {
  const out: Array<[number, string, string]> = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+\.\d+) .*Server \S+\/(\S+) is (UP|DOWN)/.exec(line);
    if (m) out.push([Number(m[1]) * 1000, m[2], m[3]]);
  }
  return out;
}

/** The servers a host's HAProxy last marked DOWN (since `ctx.since`). */
async function downServers(ctx: Ctx, host: string): Promise<string[]> {
  const last = new Map<string, string>();
  for (const [, server, state] of serverStates(await journal(ctx, host, "haproxy", ctx.since)))
    last.set(server, state);
  return [...last].filter(([, st]) => st === "DOWN").map(([srv]) => srv);
}

/** The first time at or after `after` that the host's HAProxy marked `server` DOWN. */
export async function markedDownAt(
  ctx: Ctx,
  host: string,
  server: string,
  after: number,
): Promise<number | undefined> {
  return serverStates(await journal(ctx, host, "haproxy", after - 1000)).find(
    ([at, srv, st]) => srv === server && st === "DOWN" && at >= after,
  )?.[0];
}

/** keepalived's last "Entering X STATE" on a host since `ctx.since`. */
async function keepalivedState(ctx: Ctx, host: string): Promise<string | undefined> {
  const states = [
    ...(await journal(ctx, host, "keepalived", ctx.since)).matchAll(/Entering ([A-Z]+) STATE/g),
  ];
  return states.pop()?.[1];
}

/**
 * keepalived's "Entering MASTER STATE" lines on the running masters between `from` and `to`, in whole
 * seconds of the journal (from the first whole second at or after `from`: nothing before it counts).
 */
export async function masterTransitions(ctx: Ctx, from: number, to: number): Promise<number> {
  const counts = await Promise.all(
    running(ctx).map(async (h) => {
      const text = await journal(
        ctx,
        h,
        "keepalived",
        Math.ceil(from / 1000) * 1000,
        ` --until=@${Math.ceil(to / 1000)}`,
      );
      return text.split("\n").filter((l) => l.includes("Entering MASTER STATE")).length;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** Which HAProxies must have every backend UP before a scenario. */
export type BackendsUp = "none" | "holder" | "all";

/**
 * Back to a steady state: every host on, HAProxy and keepalived started, every parked kube-apiserver
 * back, every API server ready and every node Ready; exactly one holder (the same for the profile's
 * `steadyHoldMs`), an authenticated read through the VIP answering; every backend UP in the holder's
 * HAProxy or in every HAProxy (`backends`); with `noFault`, no keepalived in FAULT. Returns the holder.
 */
export async function steady(ctx: Ctx, backends: BackendsUp, noFault: boolean): Promise<string> {
  const t0 = Date.now();
  for (const h of ctx.lab.hosts) if (!h.running) await powerOn(ctx.lab, h.name);
  await Promise.all(ctx.masters.map((h) => must(ctx.lab, h, "systemctl start haproxy keepalived")));
  await restoreCluster(ctx.lab, ctx.creds, ctx.masters, ctx.nodes, W.steadyBound);
  const problem = async (hs: string[]): Promise<string | undefined> => {
    if (hs.length !== 1) return `holders: [${hs.join(", ")}]`;
    if (!(await vipAnswers(ctx))) return "the VIP does not answer";
    const cluster = await clusterProblem(ctx.lab, ctx.creds, ctx.masters, ctx.nodes);
    if (cluster) return cluster;
    const lbs = backends === "all" ? running(ctx) : backends === "holder" ? hs : [];
    const down = (
      await Promise.all(lbs.map(async (h) => (await downServers(ctx, h)).map((s) => `${h}:${s}`)))
    ).flat();
    if (down.length > 0) return `HAProxy backends DOWN: ${down.join(", ")}`;
    if (noFault) {
      const states = await Promise.all(running(ctx).map((h) => keepalivedState(ctx, h)));
      const fault = running(ctx).filter((_, i) => states[i] === "FAULT");
      if (fault.length > 0) return `keepalived in FAULT on ${fault.join(", ")}`;
    }
    return undefined;
  };
  let holder = "";
  let since = 0;
  let why = "";
  while (Date.now() - t0 < W.steadyBound) {
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
      if (waited > 10_000)
        ctx.log(`      (steady after ${(waited / 1000).toFixed(1)} s${why ? `; last wait: ${why}` : ""})`);
      return holder;
    }
    await sleep(250);
  }
  throw new Error(`no steady state after ${W.steadyBound / 1000} s: ${why}`);
}
