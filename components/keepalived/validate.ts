/**
 * Pure validation of KeepalivedVipArgs: every rule returns problems that name the argument and the value.
 * Runs synchronously in the KeepalivedVip constructor, before any resource exists.
 */
import {
  addressKey,
  inSubnet,
  ipFamily,
  isIpv4NetworkOrBroadcast,
  networkOf,
  parseAddressWithPrefix,
} from "../net";
import { checkInstall, PACKAGE_INSTALL_RULES } from "../install";
import { hostListProblems, isPort, isWholeInRange, notAnObject, oneOfProblems, show } from "../validation";
import type { Problem, ValidationResult } from "../validation";
import {
  derivedPriority,
  FIRST_PRIORITY,
  MAX_ADVERT_INTERVAL_SECONDS,
  MAX_CHECK_SECONDS,
  MAX_PRIORITY,
  MIN_ADVERT_INTERVAL_SECONDS,
  MIN_PRIORITY,
  PRIORITY_STEP,
} from "./defaults";
import { checkWeight, memberPriority, resolveTimings } from "./settings";
import { KeepalivedVipArgs, VipHealthCheckKind, VrrpTimingProfile, VrrpTransport } from "./types";

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1); hakube allows the characters that need no quoting. */
const interfaceName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function isInterfaceName(v: unknown): boolean {
  return typeof v === "string" && interfaceName.test(v) && v !== "." && v !== "..";
}

export function validateKeepalivedVipArgs(args: KeepalivedVipArgs | undefined): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const wrong = notAnObject(args, "address, interface, members and virtualRouterId");
  if (wrong || !args) return wrong!; // no args is no object: wrong is set
  errors.push(...hostListProblems(args.members, "members"));
  const members = Array.isArray(args.members) ? args.members : [];
  if (members.length === 1) {
    warnings.push({
      path: "members",
      message: `members has 1: the virtual IP has no standby and goes down with that host; use 2 or more`,
    });
  }
  errors.push(...addressProblems(args));
  if (!isInterfaceName(args.interface)) {
    errors.push({
      path: "interface",
      message: `interface must be a Linux interface name (1-15 letters, digits, '_', '.' or '-'), got ${show(args.interface)}`,
    });
  }
  const vrid = args.virtualRouterId;
  if (!(typeof vrid === "number" && Number.isInteger(vrid) && vrid >= 1 && vrid <= 255)) {
    errors.push({
      path: "virtualRouterId",
      message: `virtualRouterId must be a whole number 1-255, unique among the VRRP groups of the network, got ${show(vrid)}`,
    });
  }
  if (args.port !== undefined && !isPort(args.port)) {
    errors.push({ path: "port", message: `port must be a port number 1-65535, got ${show(args.port)}` });
  }
  errors.push(...healthCheckProblems(args));
  errors.push(...priorityProblems(args));
  errors.push(...timingProblems(args));
  errors.push(...oneOfProblems(args.transport, VrrpTransport, "transport"));
  errors.push(...checkInstall(args.install, "install", PACKAGE_INSTALL_RULES).problems);
  const t = args.readyTimeoutSeconds;
  if (t !== undefined && !(typeof t === "number" && Number.isInteger(t) && t >= 10)) {
    errors.push({
      path: "readyTimeoutSeconds",
      message: `readyTimeoutSeconds must be a whole number of seconds, at least 10, got ${show(t)}`,
    });
  }
  return { errors, warnings };
}

function addressProblems(args: KeepalivedVipArgs): Problem[] {
  const problems: Problem[] = [];
  const vip = parseAddressWithPrefix(args.address);
  if (!vip) {
    problems.push({
      path: "address",
      message: `address must be an IP address with the prefix length of its subnet, such as "10.0.0.10/24", got ${show(args.address)}`,
    });
    return problems;
  }
  const special = isIpv4NetworkOrBroadcast(vip);
  if (special) {
    problems.push({
      path: "address",
      message: `address ${show(args.address)} is the ${special} address of ${networkOf(vip)}; use a host address`,
    });
  }
  const members = Array.isArray(args.members) ? args.members : [];
  const subnet = networkOf(vip);
  members.forEach((m, i) => {
    const a = m?.address;
    const family = ipFamily(a);
    if (!family || typeof a !== "string") return; // reported by hostListProblems
    if (addressKey(a) === addressKey(vip.address)) {
      problems.push({
        path: "address",
        message: `address ${show(args.address)} is members[${i}].address; the virtual IP must be an address that no host owns`,
      });
    } else if (!inSubnet(a, vip.address, vip.prefixLength)) {
      problems.push({
        path: `members[${i}].address`,
        message: `members[${i}].address ${show(a)} is outside the virtual IP's subnet ${subnet} (address ${show(args.address)}); every member must be on the VIP's network`,
      });
    }
  });
  return problems;
}

function healthCheckProblems(args: KeepalivedVipArgs): Problem[] {
  const problems: Problem[] = [];
  const hc = args.healthCheck;
  if (hc === undefined) return problems;
  problems.push(...oneOfProblems(hc.kind, VipHealthCheckKind, "healthCheck.kind"));
  if (hc.port !== undefined) {
    if (!isPort(hc.port)) {
      problems.push({
        path: "healthCheck.port",
        message: `healthCheck.port must be a port number 1-65535, got ${show(hc.port)}`,
      });
    } else if (hc.kind === VipHealthCheckKind.None) {
      problems.push({
        path: "healthCheck.port",
        message: `healthCheck.port has no use with healthCheck.kind "none", got ${hc.port}`,
      });
    }
  }
  return problems;
}

function hasHealthCheck(args: KeepalivedVipArgs): boolean {
  return (args.healthCheck?.kind ?? VipHealthCheckKind.ApiServer) !== VipHealthCheckKind.None;
}

function priorityProblems(args: KeepalivedVipArgs): Problem[] {
  const problems: Problem[] = [];
  const members = Array.isArray(args.members) ? args.members : [];
  const seen = new Map<number, number>();
  const valid: number[] = [];
  members.forEach((m, i) => {
    const given = m?.priority;
    let p: number;
    if (given === undefined) {
      p = derivedPriority(i);
      if (p < MIN_PRIORITY) {
        problems.push({
          path: `members[${i}].priority`,
          message: `members[${i}] gets no priority from its position (${FIRST_PRIORITY} - ${PRIORITY_STEP} x ${i} = ${p} is below ${MIN_PRIORITY}); give every member a priority`,
        });
        return;
      }
    } else if (
      typeof given === "number" &&
      Number.isInteger(given) &&
      given >= MIN_PRIORITY &&
      given <= MAX_PRIORITY
    ) {
      p = given;
    } else {
      problems.push({
        path: `members[${i}].priority`,
        message: `members[${i}].priority must be a whole number ${MIN_PRIORITY}-${MAX_PRIORITY} (255 is reserved for the address owner), got ${show(given)}`,
      });
      return;
    }
    const other = seen.get(p);
    if (other !== undefined) {
      const how = (j: number) => (members[j]?.priority === undefined ? " (from its position)" : "");
      problems.push({
        path: `members[${i}].priority`,
        message: `members[${i}].priority ${p}${how(i)} is also the priority of members[${other}]${how(other)}; priorities must be unique`,
      });
    } else {
      seen.set(p, i);
    }
    valid.push(p);
  });
  if (hasHealthCheck(args) && valid.length > 0) {
    // A member advertises its priority minus the check's weight until its check passes (settings.ts
    // checkWeight); keepalived's configured priority must stay within 1-254.
    const weight = checkWeight(valid);
    const lowest = Math.min(...valid);
    if (lowest - weight < MIN_PRIORITY) {
      const i = members.findIndex((m, j) => memberPriority(m, j) === lowest);
      problems.push({
        path: `members[${i}].priority`,
        message: `members[${i}].priority ${lowest} is too low for priorities spread from ${lowest} to ${Math.max(...valid)} with a health check: a member advertises its priority minus ${weight} (the spread plus one) until its check passes, and ${lowest} - ${weight} = ${lowest - weight} is below ${MIN_PRIORITY}; narrow the spread or raise the lowest priorities (twice the lowest minus the highest must be at least 2)`,
      });
    }
  }
  return problems;
}

function timingProblems(args: KeepalivedVipArgs): Problem[] {
  const problems: Problem[] = [];
  const t = args.timing;
  if (t === undefined) return problems;
  problems.push(...oneOfProblems(t.profile, VrrpTimingProfile, "timing.profile"));
  const advert = t.advertIntervalSeconds;
  if (advert !== undefined) {
    const cs = typeof advert === "number" ? Math.round(advert * 100) : NaN;
    if (
      !(typeof advert === "number" && Math.abs(cs - advert * 100) < 1e-6) ||
      advert < MIN_ADVERT_INTERVAL_SECONDS ||
      advert > MAX_ADVERT_INTERVAL_SECONDS
    ) {
      problems.push({
        path: "timing.advertIntervalSeconds",
        message: `timing.advertIntervalSeconds must be ${MIN_ADVERT_INTERVAL_SECONDS}-${MAX_ADVERT_INTERVAL_SECONDS} seconds in steps of 0.01 (VRRPv3), got ${show(advert)}`,
      });
    }
  }
  for (const key of ["checkIntervalSeconds", "checkTimeoutSeconds"] as const) {
    if (t[key] !== undefined && !isWholeInRange(t[key], 1, MAX_CHECK_SECONDS)) {
      problems.push({
        path: `timing.${key}`,
        message: `timing.${key} must be a whole number of seconds 1-${MAX_CHECK_SECONDS} (keepalived refuses fractions), got ${show(t[key])}`,
      });
    }
  }
  const { checkIntervalSeconds: interval, checkTimeoutSeconds: timeout } = resolveTimings(args);
  if (
    isWholeInRange(interval, 1, MAX_CHECK_SECONDS) &&
    isWholeInRange(timeout, 1, MAX_CHECK_SECONDS) &&
    timeout > interval
  ) {
    problems.push({
      path: "timing.checkTimeoutSeconds",
      message: `timing.checkTimeoutSeconds must not exceed the check interval (${interval} s), got ${timeout}`,
    });
  }
  for (const key of ["checkFall", "checkRise"] as const) {
    if (t[key] !== undefined && !isWholeInRange(t[key], 1, 100)) {
      problems.push({
        path: `timing.${key}`,
        message: `timing.${key} must be a whole number 1-100, got ${show(t[key])}`,
      });
    }
  }
  return problems;
}
