import type * as pulumi from "@pulumi/pulumi";
import type { HostArgs, KnownHost } from "../hosts";
import type { PackageInstallArgs } from "../install";

/** Which load balancer a {@link LoadBalancerArgs} describes; each kind has its own block of settings. */
export const LoadBalancerKind = {
  /**
   * HAProxy on hosts you give, configured over SSH: dedicated load-balancer hosts, or the masters
   * themselves. Several hosts share one address through a KeepalivedVip (`haproxy.bindAddress`).
   */
  Haproxy: "haproxy",
  /** An AWS Network Load Balancer (TCP pass-through), its target group, listener and security group. */
  AwsNlb: "awsNlb",
} as const;
export type LoadBalancerKind = (typeof LoadBalancerKind)[keyof typeof LoadBalancerKind];

/** One API server behind HAProxy. */
export interface LoadBalancerBackendArgs {
  /** HAProxy's name for the server, shown in its logs: a DNS label, unique among the backends. */
  name: string;
  /** The API server's IP address or DNS name: a string, or an Output (a host's address). */
  address: pulumi.Input<string>;
}

/**
 * HAProxy's active health checks of the backends (HTTPS GET /readyz). A backend is taken out after `fall`
 * failed checks and put back after `rise` good ones.
 */
export interface HaproxyCheckArgs {
  /** Milliseconds between checks, which is also the time one check may take. @default 500 */
  intervalMs?: number;
  /** Failed checks before a backend is taken out. @default 2 */
  fall?: number;
  /** Passed checks before a backend is put back. @default 2 */
  rise?: number;
}

/** Settings for `kind: LoadBalancerKind.Haproxy`. */
export interface HaproxyArgs {
  /** The hosts that run HAProxy, each with the same configuration. Order matters: changes roll through them in this order. */
  hosts: HostArgs[];
  /** The API servers. */
  backends: LoadBalancerBackendArgs[];
  /**
   * The address HAProxy listens on, usually a KeepalivedVip's address. Every host binds it, also those
   * that do not hold it at the moment: hakube sets net.ipv4.ip_nonlocal_bind=1 (net.ipv6.ip_nonlocal_bind
   * for IPv6) in /etc/sysctl.d for that. On masters, where kube-apiserver listens on all addresses of
   * `backendPort`, use another `port` (8443, as kubeadm's HA guide) or bind the API server to the host's
   * own address: HAProxy on `backendPort` of a host that is also a backend is refused. A string, or an
   * Output such as a KeepalivedVip's `address`. @default every address of the host (no sysctl change)
   */
  bindAddress?: pulumi.Input<string>;
  /**
   * The CA that signed the API servers' certificates. Given, HAProxy's health checks verify the backends'
   * certificate chain against it (not the host name); otherwise they do not verify (`verify none`): the
   * checks then prove readiness, not identity. Client traffic is TCP pass-through either way: clients do
   * TLS with the API servers themselves. Not a secret.
   */
  caCertPem?: pulumi.Input<string>;
  /** HAProxy's health checks of the backends (HTTPS /readyz). */
  check?: HaproxyCheckArgs;
  /**
   * A loopback-only HTTP port where HAProxy answers GET /healthz with 200 while it runs: what a
   * KeepalivedVip with `healthCheck.kind: VipHealthCheckKind.Haproxy` checks. @default 8404
   */
  healthPort?: number;
  /** How HAProxy gets onto the hosts. @default { method: InstallMethod.Package } */
  install?: PackageInstallArgs;
}

/** HaproxyArgs once every address (hosts, backends, bindAddress) is known. */
export type KnownHaproxyArgs = Omit<HaproxyArgs, "hosts" | "backends" | "bindAddress"> & {
  hosts: KnownHost[];
  backends: Array<{ name: string; address: string }>;
  bindAddress?: string;
};

/** Who can reach an AWS Network Load Balancer. */
export const AwsNlbScheme = {
  /** Only from inside the VPC (and networks routed to it). The default. */
  Internal: "internal",
  /** A public address; still only the `allowedCidrs` may connect. */
  InternetFacing: "internet-facing",
} as const;
export type AwsNlbScheme = (typeof AwsNlbScheme)[keyof typeof AwsNlbScheme];

/** How targets are registered with the target group. */
export const AwsNlbTargetType = {
  /** By EC2 instance id ("i-0123456789abcdef0"). The default. */
  Instance: "instance",
  /** By private IP address. */
  Ip: "ip",
} as const;
export type AwsNlbTargetType = (typeof AwsNlbTargetType)[keyof typeof AwsNlbTargetType];

/** One API server behind the NLB. */
export interface AwsNlbTargetArgs {
  /** Names the attachment resource: a DNS label, unique among the targets. */
  name: string;
  /** The instance id (targetType instance) or the IP address (targetType ip). */
  id: pulumi.Input<string>;
}

/** The target group's HTTPS GET /readyz health check. Defaults are the fastest AWS allows for an NLB. */
export interface AwsNlbHealthCheckArgs {
  /** 5-300. @default 5 */
  intervalSeconds?: number;
  /** 2-120, less than the interval. @default 3 */
  timeoutSeconds?: number;
  /** 2-10. @default 2 */
  healthyThreshold?: number;
  /** 2-10. @default 2 */
  unhealthyThreshold?: number;
}

/** Settings for `kind: LoadBalancerKind.AwsNlb`. */
export interface AwsNlbArgs {
  /** The VPC of the subnets and targets. */
  vpcId: pulumi.Input<string>;
  /** At least two subnets, in different Availability Zones; the NLB has a node in each. */
  subnetIds: pulumi.Input<string>[];
  /** Internal (VPC only) or internet-facing. @default AwsNlbScheme.Internal */
  scheme?: AwsNlbScheme;
  /** Whether targets are instance ids or IP addresses. @default AwsNlbTargetType.Instance */
  targetType?: AwsNlbTargetType;
  /**
   * The API servers to register now. Targets can also be registered later with the `targetGroupArn`
   * output (when the instances need the endpoint before they exist). @default none
   */
  targets?: AwsNlbTargetArgs[];
  /**
   * Networks (CIDR blocks, IPv4 or IPv6) allowed to connect to `port`. "0.0.0.0/0" only if you list it.
   * @default the VPC's primary CIDR block
   */
  allowedCidrs?: string[];
  /**
   * Security groups of the targets: each gets a rule that lets the NLB's security group reach
   * `backendPort` (traffic and health checks). Without it, allow the `securityGroupId` output yourself.
   * @default none
   */
  targetSecurityGroupIds?: pulumi.Input<string>[];
  /** The target group's health checks (HTTPS /readyz). */
  healthCheck?: AwsNlbHealthCheckArgs;
  /** Tags for every AWS resource made. */
  tags?: { [key: string]: string };
}

/**
 * One load balancer in front of the API servers: `kind` picks HAProxy or an AWS NLB, and exactly the
 * matching block (`haproxy` or `awsNlb`) holds its settings.
 */
export interface LoadBalancerArgs {
  /** HAProxy on your hosts (`haproxy`) or an AWS Network Load Balancer (`awsNlb`). */
  kind: LoadBalancerKind;
  /** The port clients connect to. @default 6443 */
  port?: number;
  /** The API servers' port. @default 6443 */
  backendPort?: number;
  /** Required with `kind: LoadBalancerKind.Haproxy`, refused otherwise. */
  haproxy?: HaproxyArgs;
  /** Required with `kind: LoadBalancerKind.AwsNlb`, refused otherwise. */
  awsNlb?: AwsNlbArgs;
}
