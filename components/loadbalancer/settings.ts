/**
 * Resolve LoadBalancerArgs into plain settings (defaults applied). Pure: no Pulumi import.
 * Call only after validateLoadBalancerArgs found no errors.
 */
import {
  DEFAULT_BACKEND_PORT,
  DEFAULT_HAPROXY_CHECK_FALL,
  DEFAULT_HAPROXY_CHECK_INTERVAL_MS,
  DEFAULT_HAPROXY_CHECK_RISE,
  DEFAULT_HAPROXY_HEALTH_PORT,
  DEFAULT_NLB_HEALTH_CHECK_INTERVAL_SECONDS,
  DEFAULT_NLB_HEALTH_CHECK_TIMEOUT_SECONDS,
  DEFAULT_NLB_HEALTHY_THRESHOLD,
  DEFAULT_NLB_UNHEALTHY_THRESHOLD,
  DEFAULT_PORT,
  HAPROXY_CA_FILE,
} from "./defaults";
import { canonicalIp, IpFamily, ipFamily, joinHostPort } from "../net";
import { AwsNlbArgs, AwsNlbScheme, AwsNlbTargetType, KnownHaproxyArgs, LoadBalancerArgs } from "./types";
import { DEFAULT_PACKAGE_SBIN_DIR, InstallMethod } from "../install";

/** What haproxy.cfg and the HAProxy host scripts are rendered from; the same on every host. */
export interface HaproxySettings {
  /** The component name. */
  component: string;
  /** The address clients reach: `bindAddress` if given, else the first host's; canonical. */
  address: string;
  /** address:port (IPv6 in brackets). */
  endpoint: string;
  port: number;
  backendPort: number;
  /** Where the frontend listens: an address, or "*" (every IPv4 address) or "::" (every address, IPv4 and IPv6). */
  bindAddress: string;
  /** Set when `bindAddress` is a specific address: the family whose ip_nonlocal_bind is turned on. */
  nonlocalBind?: IpFamily;
  backends: Array<{ name: string; address: string }>;
  checkIntervalMs: number;
  checkFall: number;
  checkRise: number;
  /** Set when the backends' certificates are verified: the CA file on the hosts. */
  caFile?: string;
  healthPort: number;
  method: InstallMethod;
  binDir: string;
}

export function resolveHaproxy(
  component: string,
  args: LoadBalancerArgs,
  h: KnownHaproxyArgs,
): HaproxySettings {
  const wildcard = ipFamily(h.hosts[0]?.address) === 6 ? "::" : "*";
  const address = canonicalIp(h.bindAddress ?? h.hosts[0].address);
  const port = args.port ?? DEFAULT_PORT;
  return {
    component,
    address,
    endpoint: joinHostPort(address, port),
    port,
    backendPort: args.backendPort ?? DEFAULT_BACKEND_PORT,
    bindAddress: h.bindAddress ?? wildcard,
    nonlocalBind: h.bindAddress === undefined ? undefined : ipFamily(h.bindAddress),
    backends: h.backends.map((b) => ({ name: b.name, address: b.address })),
    checkIntervalMs: h.check?.intervalMs ?? DEFAULT_HAPROXY_CHECK_INTERVAL_MS,
    checkFall: h.check?.fall ?? DEFAULT_HAPROXY_CHECK_FALL,
    checkRise: h.check?.rise ?? DEFAULT_HAPROXY_CHECK_RISE,
    caFile: h.caCertPem === undefined ? undefined : HAPROXY_CA_FILE,
    healthPort: h.healthPort ?? DEFAULT_HAPROXY_HEALTH_PORT,
    method: h.install?.method ?? InstallMethod.Package,
    binDir: h.install?.binDir ?? DEFAULT_PACKAGE_SBIN_DIR,
  };
}

/** The AWS NLB's plain settings (Inputs such as ids stay in the args). */
export interface AwsNlbSettings {
  port: number;
  backendPort: number;
  internal: boolean;
  targetType: AwsNlbTargetType;
  healthCheckIntervalSeconds: number;
  healthCheckTimeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export function resolveAwsNlb(args: LoadBalancerArgs, n: AwsNlbArgs): AwsNlbSettings {
  return {
    port: args.port ?? DEFAULT_PORT,
    backendPort: args.backendPort ?? DEFAULT_BACKEND_PORT,
    internal: (n.scheme ?? AwsNlbScheme.Internal) === AwsNlbScheme.Internal,
    targetType: n.targetType ?? AwsNlbTargetType.Instance,
    healthCheckIntervalSeconds: n.healthCheck?.intervalSeconds ?? DEFAULT_NLB_HEALTH_CHECK_INTERVAL_SECONDS,
    healthCheckTimeoutSeconds: n.healthCheck?.timeoutSeconds ?? DEFAULT_NLB_HEALTH_CHECK_TIMEOUT_SECONDS,
    healthyThreshold: n.healthCheck?.healthyThreshold ?? DEFAULT_NLB_HEALTHY_THRESHOLD,
    unhealthyThreshold: n.healthCheck?.unhealthyThreshold ?? DEFAULT_NLB_UNHEALTHY_THRESHOLD,
  };
}
