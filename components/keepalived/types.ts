import type { HostArgs, KnownHost } from "../hosts";
import type { InstallMethod, PackageInstallArgs } from "../install";

/** A host that takes part in the VRRP election for the virtual IP. */
export interface KeepalivedMemberArgs extends HostArgs {
  /**
   * VRRP priority when healthy, 1-254, unique: the healthy member with the highest priority holds the VIP.
   * With a health check a member advertises this minus the check's weight (the spread of the priorities
   * plus one) until its check passes, so twice the lowest priority minus the highest must be at least 2.
   * @default derived from the position in `members`: 200, 190, 180, ...
   */
  priority?: number;
}

/** What each member's keepalived checks to decide whether it may hold the VIP. */
export const VipHealthCheckKind = {
  /**
   * The member's own kube-apiserver: HTTPS GET /readyz on the member's address and `healthCheck.port`.
   * The default.
   */
  ApiServer: "apiServer",
  /**
   * The member's own HAProxy (a LoadBalancer of kind haproxy on the same hosts): HTTP GET /healthz on
   * 127.0.0.1:`healthCheck.port`, which HAProxy answers while it runs.
   */
  Haproxy: "haproxy",
  /** No check: the VIP moves only when keepalived, the interface or the host fails. */
  None: "none",
} as const;
export type VipHealthCheckKind = (typeof VipHealthCheckKind)[keyof typeof VipHealthCheckKind];

/** What a member must pass to hold the VIP. */
export interface VipHealthCheckArgs {
  /** What a member checks to keep the VIP. @default VipHealthCheckKind.ApiServer */
  kind?: VipHealthCheckKind;
  /** The port the check probes. @default `port` for ApiServer, 8404 (the LoadBalancer's `haproxy.healthPort` default) for Haproxy */
  port?: number;
}

/** How VRRP advertisements travel between members. */
export const VrrpTransport = {
  /** To each other member's address (`unicast_peer`): works where multicast is filtered. The default. */
  Unicast: "unicast",
  /** To the VRRP multicast group (224.0.0.18 / ff02::12) on the interface. */
  Multicast: "multicast",
} as const;
export type VrrpTransport = (typeof VrrpTransport)[keyof typeof VrrpTransport];

/**
 * Named timings. Failover when the VIP holder dies is about 3.5 x the advertisement interval (the backups
 * wait 3 intervals plus a skew below one); when its health check fails, about fall x check interval plus
 * the same. Numbers in components/keepalived/defaults.ts.
 */
export const VrrpTimingProfile = {
  /**
   * Advertisement every 0.1 s (~0.4 s failover on host death), checks every second. The default: no
   * spurious VIP move measured under CPU load (BENCHMARKS.md). ~30 small VRRP packets a second per VIP.
   */
  Fast: "fast",
  /** Advertisement every 0.3 s (~1 s failover), checks every second: a third of the VRRP traffic. */
  Balanced: "balanced",
  /** VRRP's own default advertisement of 1 s (~3.6 s failover), checks every 2 s. */
  Conservative: "conservative",
} as const;
export type VrrpTimingProfile = (typeof VrrpTimingProfile)[keyof typeof VrrpTimingProfile];

/** A profile, optionally with single values overridden. */
export interface VrrpTimingArgs {
  /** How fast VRRP detects a failed holder. @default VrrpTimingProfile.Fast */
  profile?: VrrpTimingProfile;
  /** 0.01-40.95 in steps of 0.01 (VRRPv3). */
  advertIntervalSeconds?: number;
  /** Whole seconds, at least 1 (keepalived 2.2 refuses fractions). */
  checkIntervalSeconds?: number;
  /** Whole seconds, at least 1, at most the check interval. */
  checkTimeoutSeconds?: number;
  /** Failed checks before the member's priority is lowered. */
  checkFall?: number;
  /** Good checks before it is restored. */
  checkRise?: number;
}

/**
 * A virtual IP shared by hosts with keepalived (VRRPv3): one healthy member holds it, another takes it
 * over within about a second when that member, its keepalived or its health check fails.
 */
export interface KeepalivedVipArgs {
  /** The virtual IP with the prefix length of its subnet, e.g. "10.0.0.10/24". Every member must be in that subnet. */
  address: string;
  /** The interface that carries the VIP; the same name on every member (e.g. "eth0"). */
  interface: string;
  /**
   * The members: 2 or more for a VIP that survives a host (1 is accepted, with a warning: no standby).
   * Order gives the default priorities: the first one holds the VIP when all are healthy, and while none
   * is (before the API servers exist), so list the first master first. Addresses may be Outputs.
   */
  members: KeepalivedMemberArgs[];
  /** The VRRP router id, 1-255: unique among the VRRP groups of the network segment. */
  virtualRouterId: number;
  /** The port behind the VIP that the `endpoint` output names. @default 6443 */
  port?: number;
  /** What decides whether a member may hold the VIP. @default { kind: VipHealthCheckKind.ApiServer } */
  healthCheck?: VipHealthCheckArgs;
  /** VRRP advertisement timing. @default { profile: VrrpTimingProfile.Fast } */
  timing?: VrrpTimingArgs;
  /** How VRRP advertisements travel between members. @default VrrpTransport.Unicast */
  transport?: VrrpTransport;
  /** How keepalived gets onto the members. @default { method: InstallMethod.Package } */
  install?: PackageInstallArgs;
  /**
   * How long the final check waits for the VIP to settle on one member and, with the haproxy health
   * check, for `port` to accept connections on it (a LoadBalancer installed meanwhile). @default 600
   */
  readyTimeoutSeconds?: number;
}

/** KeepalivedVipArgs once every member's address is known. */
export type KnownKeepalivedVipArgs = Omit<KeepalivedVipArgs, "members"> & {
  members: Array<KnownHost<KeepalivedMemberArgs>>;
};

/** A health check, resolved. */
/** Install parameters of one member, resolved. */
export interface KeepalivedInstallSettings {
  component: string;
  name: string;
  method: InstallMethod;
  binDir: string;
  /** With a health check: curl, setpriv and the script user are needed. */
  needsCheckTools: boolean;
  scriptUser: string;
}

export interface VipCheckSettings {
  /** ApiServer or Haproxy (None has no settings). */
  kind: VipHealthCheckKind;
  url: string;
  /** curl --insecure: only for the member's own API server (see render/config.ts). */
  insecure: boolean;
  intervalSeconds: number;
  timeoutSeconds: number;
  fall: number;
  rise: number;
  /** Positive: what a passing check adds to the member's base priority (see settings.ts checkWeight). */
  weight: number;
}

/** What one member's files and scripts are rendered from: plain values, nothing unresolved. */
export interface KeepalivedMemberSettings {
  /** The component name. */
  component: string;
  name: string;
  address: string;
  interface: string;
  /** The VIP without prefix. */
  vip: string;
  prefixLength: number;
  virtualRouterId: number;
  /** The healthy priority (the member's `priority` arg or the one its position gives). */
  priority: number;
  /**
   * keepalived's `priority`: what the member advertises until its check passes and while it fails;
   * a passing check adds `check.weight`, giving `priority`. Equal to `priority` without a check.
   */
  basePriority: number;
  transport: VrrpTransport;
  /** The other members' addresses (unicast), in member order. */
  peers: string[];
  advertIntervalSeconds: number;
  check?: VipCheckSettings;
  /** The unprivileged user the health check's curl runs as. */
  scriptUser: string;
  binDir: string;
}

/** What the final check is rendered from. */
export interface VipReadySettings {
  component: string;
  /** The VIP without prefix. */
  vip: string;
  prefixLength: number;
  interface: string;
  port: number;
  /** vip:port (IPv6 in brackets). */
  endpoint: string;
  /** Wait until `port` accepts connections (the haproxy health check only: HAProxy listens there). */
  connect: boolean;
  timeoutSeconds: number;
}
