/**
 * Resolve KeepalivedVipArgs into plain per-member settings (defaults applied). Pure: no Pulumi import.
 * Call only after validateKeepalivedVipArgs found no errors.
 */
import { HAPROXY_HEALTH_PATH, HAPROXY_HEALTH_PORT, READYZ_PATH } from "../contracts";
import { DEFAULT_PACKAGE_SBIN_DIR, InstallMethod } from "../install";
import { AddressWithPrefix, canonicalIp, joinHostPort, parseAddressWithPrefix } from "../net";
import {
  DEFAULT_PORT,
  DEFAULT_READY_TIMEOUT_SECONDS,
  DEFAULT_TIMING_PROFILE,
  derivedPriority,
  SCRIPT_USER,
  TIMING_PROFILES,
  VrrpTimings,
} from "./defaults";
import {
  KeepalivedInstallSettings,
  KeepalivedMemberSettings,
  KeepalivedVipArgs,
  KnownKeepalivedVipArgs,
  VipCheckSettings,
  VipHealthCheckKind,
  VipReadySettings,
  VrrpTransport,
} from "./types";
import { show } from "../show";

export interface ResolvedKeepalivedVip {
  /** The VIP without prefix. */
  vip: string;
  /** vip:port (IPv6 in brackets). */
  endpoint: string;
  timings: VrrpTimings;
  /** Per member, in the order of the args: what the install step does. */
  installs: KeepalivedInstallSettings[];
  members: KeepalivedMemberSettings[];
  /** The final check: whether `port` must accept connections (haproxy health check only), and how long to wait. */
  check: VipReadySettings;
}

/** The URL a member's health check asks. */
export function checkUrl(
  kind: VipHealthCheckKind,
  memberAddress: string,
  port: number,
  path: string,
): string {
  return kind === VipHealthCheckKind.Haproxy
    ? `http://${joinHostPort("127.0.0.1", port)}${path}`
    : `https://${joinHostPort(memberAddress, port)}${path}`;
}

/** The VIP without its prefix, canonical ("fd00:0::10/64" -> fd00::10), and its prefix length. */
export function resolveVipAddress(address: string): AddressWithPrefix {
  const parsed = parseAddressWithPrefix(address);
  if (!parsed) throw new Error(`resolveKeepalivedVip: invalid address ${show(address)}`);
  return { ...parsed, address: canonicalIp(parsed.address) };
}

/** A member's priority: its own, or the one its position gives. */
export function memberPriority(member: { priority?: number } | undefined, index: number): number {
  return member?.priority ?? derivedPriority(index);
}

/**
 * The profile's timings with the explicit overrides applied. An unknown profile counts as the default
 * one, so that the validator can check the overrides against it (and report the profile on its own).
 */
export function resolveTimings(args: KeepalivedVipArgs): VrrpTimings {
  const t = args.timing ?? {};
  const profile =
    t.profile !== undefined && Object.prototype.hasOwnProperty.call(TIMING_PROFILES, t.profile)
      ? t.profile
      : DEFAULT_TIMING_PROFILE;
  const base = TIMING_PROFILES[profile];
  return {
    advertIntervalSeconds: t.advertIntervalSeconds ?? base.advertIntervalSeconds,
    checkIntervalSeconds: t.checkIntervalSeconds ?? base.checkIntervalSeconds,
    checkTimeoutSeconds: t.checkTimeoutSeconds ?? base.checkTimeoutSeconds,
    checkFall: t.checkFall ?? base.checkFall,
    checkRise: t.checkRise ?? base.checkRise,
  };
}

/**
 * The weight of a passing check: one more than the spread of the priorities. A member advertises its
 * priority minus this weight until its check passes (and while it fails), so every failing or unproven
 * member ranks below every healthy one, and the order among failing members is kept.
 *
 * Positive, not negative: keepalived 2.2.7 applies a negative weight only once the check has returned
 * its first result, so a restarted member advertised its healthy priority for that long (init_fail
 * notwithstanding) and could preempt the VIP before its check had run once (measured in the lab: see
 * docs/measured-facts.md). A positive weight is added only after a passing check.
 */
export function checkWeight(priorities: readonly number[]): number {
  return Math.max(...priorities) - Math.min(...priorities) + 1;
}

export function resolveKeepalivedVip(component: string, args: KnownKeepalivedVipArgs): ResolvedKeepalivedVip {
  const vip = resolveVipAddress(args.address);
  const port = args.port ?? DEFAULT_PORT;
  const timings = resolveTimings(args);
  const kind = args.healthCheck?.kind ?? VipHealthCheckKind.ApiServer;
  const checkPort =
    args.healthCheck?.port ?? (kind === VipHealthCheckKind.Haproxy ? HAPROXY_HEALTH_PORT : port);
  const checkPath = kind === VipHealthCheckKind.Haproxy ? HAPROXY_HEALTH_PATH : READYZ_PATH;
  const priorities = args.members.map(memberPriority);
  const weight = checkWeight(priorities);
  const transport = args.transport ?? VrrpTransport.Unicast;
  const binDir = args.install?.binDir ?? DEFAULT_PACKAGE_SBIN_DIR;
  const method = args.install?.method ?? InstallMethod.Package;
  const members = args.members.map((m, i): KeepalivedMemberSettings => {
    const check: VipCheckSettings | undefined =
      kind === VipHealthCheckKind.None
        ? undefined
        : {
            kind,
            url: checkUrl(kind, canonicalIp(m.address), checkPort, checkPath),
            insecure: kind === VipHealthCheckKind.ApiServer,
            intervalSeconds: timings.checkIntervalSeconds,
            timeoutSeconds: timings.checkTimeoutSeconds,
            fall: timings.checkFall,
            rise: timings.checkRise,
            weight,
          };
    return {
      component,
      name: m.name,
      address: canonicalIp(m.address),
      interface: args.interface,
      vip: vip.address,
      prefixLength: vip.prefixLength,
      virtualRouterId: args.virtualRouterId,
      priority: priorities[i],
      basePriority: check === undefined ? priorities[i] : priorities[i] - check.weight,
      transport,
      peers:
        transport === VrrpTransport.Unicast
          ? args.members.filter((_, j) => j !== i).map((o) => canonicalIp(o.address))
          : [],
      advertIntervalSeconds: timings.advertIntervalSeconds,
      check,
      scriptUser: SCRIPT_USER,
      binDir,
    };
  });
  return {
    vip: vip.address,
    endpoint: joinHostPort(vip.address, port),
    timings,
    installs: args.members.map((m) => ({
      component,
      name: m.name,
      method,
      binDir,
      needsCheckTools: kind !== VipHealthCheckKind.None,
      scriptUser: SCRIPT_USER,
    })),
    members,
    check: {
      component,
      vip: vip.address,
      prefixLength: vip.prefixLength,
      interface: args.interface,
      port,
      endpoint: joinHostPort(vip.address, port),
      connect: kind === VipHealthCheckKind.Haproxy,
      timeoutSeconds: args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
    },
  };
}
