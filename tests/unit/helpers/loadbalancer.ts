/**
 * Values the LoadBalancer tests share: HAProxy on lb1 and lb2 (10.0.0.21-22) bound to 10.0.0.10 in front
 * of the masters m1-m3, and an NLB over three instances.
 */
import {
  AwsNlbArgs,
  HaproxyArgs,
  KnownHaproxyArgs,
  LoadBalancerArgs,
  LoadBalancerKind,
} from "../../../components/loadbalancer/types";
import { HaproxySettings, resolveHaproxy } from "../../../components/loadbalancer/settings";
import { hosts } from "./hosts";

/** lb1 and lb2 at 10.0.0.21-22, each reached over SSH at its own address. */
export const lbHosts = hosts(2).map((h, i) => ({
  ...h,
  name: `lb${i + 1}`,
  address: `10.0.0.${21 + i}`,
  connection: { ...h.connection, host: `10.0.0.${21 + i}` },
}));

export const haproxyArgs = (over: Partial<HaproxyArgs> = {}): HaproxyArgs => ({
  hosts: lbHosts,
  backends: hosts(3).map((m) => ({ name: m.name, address: m.address })),
  bindAddress: "10.0.0.10",
  ...over,
});

export const nlbArgs = (over: Partial<AwsNlbArgs> = {}): AwsNlbArgs => ({
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
  targets: [
    { name: "m1", id: "i-0123456789abcdef0" },
    { name: "m2", id: "i-0123456789abcdef1" },
    { name: "m3", id: "i-0123456789abcdef2" },
  ],
  ...over,
});

/** LoadBalancerArgs of kind haproxy: `over` in the haproxy block, `top` beside it. */
export function haproxyLb(
  over: Partial<HaproxyArgs> = {},
  top: Partial<LoadBalancerArgs> = {},
): LoadBalancerArgs {
  return { kind: LoadBalancerKind.Haproxy, haproxy: haproxyArgs(over), ...top };
}

/** LoadBalancerArgs of kind awsNlb: `over` in the awsNlb block, `top` beside it. */
export function nlbLb(over: Partial<AwsNlbArgs> = {}, top: Partial<LoadBalancerArgs> = {}): LoadBalancerArgs {
  return { kind: LoadBalancerKind.AwsNlb, awsNlb: nlbArgs(over), ...top };
}

/** The resolved HAProxy settings of haproxyLb(over, top). */
export function haproxySettings(
  over: Partial<HaproxyArgs> = {},
  top: Partial<LoadBalancerArgs> = {},
): HaproxySettings {
  const args = haproxyLb(over, top);
  return resolveHaproxy("lb", args, args.haproxy as KnownHaproxyArgs);
}
