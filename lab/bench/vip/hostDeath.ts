/**
 * Scenarios 1 and 5 of the VIP benchmark: the holder powered off (its link cut, then SIGKILL of its init;
 * timed from the cut, ../onhost.ts powerCut), then powered on again. Under the profile's CPU load, with the VIP watch and the request loop; the
 * returning master gets the same load as soon as it is up.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { powerOn } from "../../hosts";
import { sleep } from "../../hosts/run";
import { cpuLoad, must, powerCut } from "../onhost";
import { errorsOf, failedPct, firstOkEnd, slowest } from "../requests";
import { finish, runScenario } from "./faults";
import { LAB_IFACE } from "./monitor";
import { W } from "./profiles";
import { Figure } from "./scenarios";
import { Ctx, running } from "./steady";
import { Timeline } from "./timeline";
import { ProbeResult } from "../../probe";

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

/** A slow or odd failover, told in the progress log: ARP entry, odd requests, VIP changes. */
async function explain(ctx: Ctx, t0: number, trace: string[], results: ProbeResult[], tl: Timeline) {
  const macs = new Map<string, string>();
  for (const h of running(ctx))
    macs.set((await must(ctx.lab, h, `cat /sys/class/net/${LAB_IFACE}/address`)).trim(), h);
  const named = trace.map((t) =>
    t.replace(/lladdr (\S+)/, (m, mac: string) => `lladdr ${macs.get(mac) ?? mac}`),
  );
  ctx.log(`      neighbour entry for the VIP here: ${named.join(" | ")}`);
  const odd = results.filter((x) => x.at >= t0 - 500 && (!x.ok || x.ms > 200));
  for (const r of [...odd.slice(0, 4), ...odd.slice(4).slice(-2)])
    ctx.log(`      request at +${r.at - t0} ms: ${r.ok ? "ok" : r.error} after ${r.ms} ms`);
  if (odd.length > 6) ctx.log(`      (${odd.length} failed or slower than 200 ms in all)`);
  for (const e of tl.changes.filter((x) => x.at >= t0 - 1000))
    ctx.log(`      vip ${e.held ? "+" : "-"} ${e.host} at +${e.at - t0} ms`);
}

/** 1 and 5: the holder powered off, then on again. */
export async function hostDeathAndReturn(ctx: Ctx, holder: string): Promise<[Figure, Figure]> {
  let s5: Figure | undefined;
  let unloadReturned = async () => undefined as void;
  let trace = async () => [] as string[];
  const s1 = await runScenario(ctx, {
    tag: "s1",
    loadSeconds: (W.failoverBound + W.powerOnWatch) / 1000 + 60,
    fault: async () => {
      trace = traceNeighbour(ctx, Date.now());
      const { at, cutMs } = await powerCut(ctx.lab, holder);
      if (cutMs > 100) ctx.log(`      (cutting ${holder}'s link took ${cutMs} ms)`);
      return at;
    },
    restore: () => unloadReturned(),
    watch: async (h, t0) => {
      h.watch.dead(holder, t0);
      // 1: until another host holds the VIP and a request through it succeeded (and 6 s at least).
      let acquired: number | undefined;
      let ok: number | undefined;
      while (Date.now() - t0 < W.failoverBound) {
        acquired ??= (await h.watch.peek()).firstAcquired(t0, holder);
        if (acquired !== undefined) ok ??= firstOkEnd(h.probe.results, acquired);
        if (ok && Date.now() - t0 >= W.hostDeath) break;
        await sleep(250);
      }
      const end1 = Math.max(t0 + W.hostDeath, ok ?? Date.now());
      // 5: power on; watch until 20 s after the power-on.
      const t5 = Date.now();
      await powerOn(ctx.lab, holder);
      ctx.log(`      (${holder} was ready ${((Date.now() - t5) / 1000).toFixed(1)} s after power-on)`);
      await h.watch.add(holder);
      if (ctx.profile.cpuLoad)
        unloadReturned = await cpuLoad(ctx.lab, [holder], W.powerOnWatch / 1000 + 10, W.loadBurners);
      await sleep(Math.max(0, t5 + W.powerOnWatch - Date.now()));
      const end5 = Date.now();
      const w1 = t0 + W.hostDeath;
      const { tl, base } = await finish(h, t5, end5);
      const rs = h.probe.results;
      acquired = tl.firstAcquired(t0, holder);
      ok = acquired === undefined ? undefined : firstOkEnd(rs, acquired);
      const last = tl.lastMove(t5, end5);
      s5 = { ...base, failoverMs: last === undefined ? undefined : last - t5 };
      const fig: Figure = {
        failoverMs: ok === undefined ? W.failoverBound : ok - t0,
        failoverCensored: ok === undefined,
        failedPct: failedPct(rs, t0, w1),
        moves: tl.moves(t0, end1),
        extras: {
          acquired: acquired === undefined ? { v: W.failoverBound, c: true } : { v: acquired - t0 },
          slowest: { v: slowest(rs, t0, w1) },
        },
        errors: errorsOf(rs, t0, w1),
        lagMs: base.lagMs,
      };
      const seen = await trace();
      if (process.env.HAKUBE_BENCH_VIP_DEBUG || fig.failoverCensored || fig.failoverMs! > 3000)
        await explain(ctx, t0, seen, rs, tl);
      return fig;
    },
  });
  return [s1, s5!];
}
