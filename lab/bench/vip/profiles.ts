/**
 * The VIP benchmark's profiles (hakube's timing profiles and the anchors: what users get elsewhere) and the
 * windows and bounds every scenario runs with.
 */
import { VrrpTimingProfile } from "../../../components/keepalived/types";
import { AnchorKind } from "../anchors";
import { selectProfiles } from "../select";

/** The windows and bounds every scenario runs with (ms unless said otherwise). */
export const W = {
  /** The failed share of scenario 1 is taken over this long after the fault (and its moves, at least). */
  hostDeath: 6_000,
  /** Scenario 5 watches this long after the power-on. */
  powerOnWatch: 20_000,
  /** Scenarios 2 and 3 watch at least this long. */
  min: 6_000,
  /** Scenario 4: holders are counted `killHoldersAt` after the kill; the whole watch lasts `kill`. */
  killHoldersAt: 2_000,
  kill: 6_000,
  /** Scenario 6: no fault, this long, with `heavyBurners` busy loops in each master (6 x 3 on two cores). */
  idle: 20_000,
  heavyBurners: 6,
  /** Busy loops in each master during every scenario of a profile that runs under CPU load. */
  loadBurners: 2,
  /** The request loop and the watches run this long before the fault. */
  preFault: 300,
  /** No failover takes longer than this in any profile; past it the try counts as "not within". */
  failoverBound: 30_000,
  /**
   * How long a steady state may take to come back between scenarios: a kube-apiserver started again, or
   * a master powered on again (its kubelet, static pods and node status), takes minutes on two cores.
   */
  steadyBound: 420_000,
  /** The whole run gives up after this long. */
  runBound: 240 * 60_000,
} as const;

export interface VipProfile {
  id: string;
  /** As shown in the table. */
  name: string;
  vipTiming?: { profile: VrrpTimingProfile };
  anchor?: AnchorKind;
  /** W.loadBurners busy loops inside every master while a scenario is measured. */
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
    apiDeathWatchMs: W.min,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 10_000,
  },
  {
    id: "hakube-default-load",
    name: "hakube default, CPU load (control for the next row)",
    cpuLoad: true,
    apiDeathWatchMs: W.min,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 10_000,
  },
  {
    id: "hakube-balanced",
    name: "hakube balanced (advert 0.3 s), CPU load",
    vipTiming: { profile: VrrpTimingProfile.Balanced },
    cpuLoad: true,
    apiDeathWatchMs: W.min,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 10_000,
  },
  {
    id: "kubeadm",
    name: "kubeadm HA guide: keepalived (advert 1 s, check 3 s x10, -2) + HAProxy (inter 2 s fall 3, retries 1)",
    anchor: AnchorKind.Kubeadm,
    cpuLoad: false,
    apiDeathWatchMs: W.min,
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
    apiDeathWatchMs: W.min,
    steadyHoldMs: 1_000,
    backendDownBoundMs: 50_000,
  },
];

/** Every profile, or those HAKUBE_BENCH_VIP_PROFILES names ("hakube-default,kubeadm"). */
export function selectedVipProfiles(): VipProfile[] {
  return selectProfiles(VIP_PROFILES, "HAKUBE_BENCH_VIP_PROFILES");
}
