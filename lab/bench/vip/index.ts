/**
 * VIP benchmark on the lab: failover of the API endpoint (keepalived VIP + HAProxy on three masters in
 * front of real kube-apiservers, Kubernetes v1.20.2 deployed by HaControlPlane, stacked etcd, one
 * worker), hakube against what users get elsewhere, side by side in one run. Each profile starts from a
 * fresh lab and a normal deploy; an anchor then writes its own keepalived.conf / haproxy.cfg over SSH
 * (anchor.ts, ../anchors.ts). Per try, six scenarios, each from a steady state (steady.ts):
 *
 *   2. API server death: kube-apiserver's manifest parked on the holder (faults.ts);
 *   3. backend death: the same on a non-holder;
 *   4. keepalived SIGKILL on the holder;
 *   6. no fault, six busy loops in every master for 20 s (a VIP move or MASTER transition is a flap);
 *   1. host death: the holder powered off (link cut, then SIGKILL of its init) (hostDeath.ts);
 *   5. return: that host powered on again.
 *
 * Meanwhile a bounded request loop (../requests.ts) starts an authenticated GET of
 * /api/v1/namespaces/default through the VIP every 50 ms (HaControlPlane's kubeconfig: its client
 * certificate, the cluster CA verified; not waiting for the previous one; a new connection each, 5 s at
 * most), and `ip monitor` inside every master timestamps each VIP add and delete (monitor.ts). Traffic
 * goes only to the lab's own hosts; every run removes its lab, also on failure.
 *
 *   npm run bench -- vip [--tries 3]
 *   HAKUBE_BENCH_VIP_PROFILES=hakube-default,kubeadm npm run bench -- vip --tries 1   # a subset
 */
import { destroyLab } from "../../hosts";
import { readKubeconfig } from "../../kubeapi";
import { anchorReplaces } from "../anchors";
import { withLab } from "../cleanup";
import { guardedDeploy, repeatOnRace } from "../deployGuard";
import { Row } from "../stats";
import { applyAnchor } from "./anchor";
import { apiServerDeath, backendDeath, idleUnderLoad, keepalivedKill } from "./faults";
import { hostDeathAndReturn } from "./hostDeath";
import { VipProfile, W, selectedVipProfiles } from "./profiles";
import { Figure, scenario, ScenarioKey, SCENARIOS } from "./scenarios";
import { BackendsUp, Ctx, steady } from "./steady";
import { vipLegend, vipTable, VipRow } from "./table";
import { LAB_NAMES, LAB_SUBNETS } from "../../hosts/subnets";

const LAB = LAB_NAMES.vipBench;
const SUBNET = LAB_SUBNETS.vipBench;
/**
 * kubeadm's stacked etcd: each kube-apiserver talks to its own member only, so a dead master costs the
 * clients what the VIP and HAProxy cost them. With external etcd every kube-apiserver also sends a share
 * of its etcd requests to the dead member until its etcd client's keepalive (30 s + 10 s) gives up on
 * it; the cluster benchmark measures that (lab/bench/cluster).
 */
const ETCD = "stacked";

type Figures = Record<ScenarioKey, Figure[]>;

/** One figure for the progress log. */
function show(f: Figure, k: ScenarioKey): string {
  const fo =
    f.failoverMs === undefined
      ? "-"
      : `${f.failoverCensored ? ">=" : ""}${(f.failoverMs / 1000).toFixed(2)} s`;
  const extras = scenario(k)
    .extras.filter((x) => f.extras?.[x.key] !== undefined)
    .map((x) => {
      const e = f.extras![x.key];
      return `, ${x.label} ${e.c ? ">=" : ""}${x.unit === "s" ? (e.v / 1000).toFixed(2) : e.v}`;
    });
  return (
    `failover ${fo}, failed ${f.failedPct.toFixed(1)} %, moves ${f.moves}${extras.join("")}` +
    (f.errors?.length ? ` [${f.errors.slice(0, 3).join("; ")}]` : "") +
    (f.lagMs !== undefined && f.lagMs > 100 ? ` (this process stalled up to ${Math.round(f.lagMs)} ms)` : "")
  );
}

/** A fresh lab with the profile deployed (and its anchor in place). */
async function labFor(p: VipProfile, log: (l: string) => void): Promise<{ ctx: Ctx; repeats: number }> {
  const { value, repeats } = await repeatOnRace(async () => {
    await destroyLab(LAB);
    const t0 = Date.now();
    const r = await guardedDeploy({
      lab: LAB,
      subnetIndex: SUBNET,
      masters: 3,
      etcd: ETCD,
      vipTiming: p.vipTiming,
    });
    return { t0, r };
  }, log);
  const { t0, r } = value;
  if (repeats > 0) log(`  ${p.id}: ${repeats} deploy(s) thrown away (kubernetes#99305)`);
  const ctx: Ctx = {
    lab: r.lab,
    vip: r.api!.vip,
    creds: readKubeconfig(r.api!.kubeconfig),
    masters: r.masters,
    nodes: [...r.masters, ...r.workers],
    profile: p,
    // From the deploy's start: HAProxy's UP/DOWN history since it started, so its last line is its state.
    since: t0,
    distributionKeepalived: p.anchor !== undefined && anchorReplaces(p.anchor).keepalived,
    log,
  };
  if (p.anchor) {
    ctx.since = Date.now();
    await applyAnchor(ctx, p.anchor);
  }
  log(`  ${p.id}: deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { ctx, repeats };
}

async function benchProfile(p: VipProfile, tries: number, log: (l: string) => void, deadline: number) {
  const figs: Figures = { s1: [], s2: [], s3: [], s4: [], s5: [], s6: [] };
  const { ctx, repeats } = await labFor(p, log);
  for (let i = 1; i <= tries; i++) {
    if (Date.now() > deadline) throw new Error(`the run took longer than ${W.runBound / 60_000} min`);
    const tryStart = Date.now();
    const done = (k: ScenarioKey, on: string, fig: Figure) => {
      figs[k].push(fig);
      log(`    ${p.id} try ${i}/${tries} ${scenario(k).title} (${on}): ${show(fig, k)}`);
    };
    const run = async (
      k: ScenarioKey,
      backends: BackendsUp,
      noFault: boolean,
      f: (h: string) => Promise<Figure>,
    ) => {
      const holder = await steady(ctx, backends, noFault);
      done(k, holder, await f(holder));
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
    done("s1", holder, s1);
    done("s5", holder, s5);
    log(`    ${p.id} try ${i}/${tries} took ${((Date.now() - tryStart) / 1000).toFixed(0)} s`);
  }
  return { figs, repeats };
}

/**
 * The suite. It prints its own wide table (with a heading and a legend) to stdout and returns no
 * stats.ts rows: that table has one metric per row, this one three per row.
 */
export async function benchVip(tries: number, log: (l: string) => void): Promise<Row[]> {
  const profiles = selectedVipProfiles();
  const started = Date.now();
  const deadline = started + W.runBound;
  const results = new Map<string, Figures>();
  const repeated: string[] = [];
  await withLab(LAB, async () => {
    for (const p of profiles) {
      log(`  profile ${p.id}: ${p.name}`);
      const { figs, repeats } = await benchProfile(p, tries, log, deadline);
      results.set(p.id, figs);
      repeated.push(`${p.id} ${repeats}`);
    }
  });
  const rows: VipRow[] = SCENARIOS.flatMap((s) =>
    profiles.map((p) => ({ scenario: s, profile: p.name, figures: results.get(p.id)![s.key] })),
  );
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(
    `\n### vip (${tries} tries per profile, ${new Date().toISOString().slice(0, 10)}, ${minutes} min)\n\n${vipTable(rows)}\n\n${vipLegend()}\n\nDeploys thrown away (kubeadm's etcd static pod refused, kubernetes#99305): ${repeated.join(", ")}.\n`,
  );
  log(`suite vip: done in ${minutes} min`);
  return [];
}
