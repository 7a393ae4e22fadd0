/**
 * Pure validation of LoadBalancerArgs: every rule returns problems that name the argument and the value.
 * Runs synchronously in the LoadBalancer constructor, before any resource exists.
 */
import {
  notAnObject,
  hostListProblems,
  uniqueNameProblems,
  isIP,
  isPending,
  isPort,
  isWholeInRange,
  oneOfProblem,
  Problem,
  show,
  ValidationResult,
} from "../validation";
import { DEFAULT_BACKEND_PORT, DEFAULT_HAPROXY_HEALTH_PORT, DEFAULT_PORT } from "./defaults";
import { HaproxyArgs, LoadBalancerArgs, LoadBalancerKind } from "./types";
import { addressKey, isDnsName } from "../net";
import { checkInstall, PACKAGE_INSTALL_RULES } from "../install";
import { awsNlbProblems } from "./validateAwsNlb";

export function validateLoadBalancerArgs(args: LoadBalancerArgs | undefined): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const wrong = notAnObject(args, "kind and its block of settings");
  if (wrong || !args) return wrong!; // no args is no object: wrong is set
  const badKind = oneOfProblem(args.kind, Object.values(LoadBalancerKind), "kind");
  if (badKind) errors.push(badKind);
  for (const key of ["port", "backendPort"] as const) {
    if (args[key] !== undefined && !isPort(args[key])) {
      errors.push({ path: key, message: `${key} must be a port number 1-65535, got ${show(args[key])}` });
    }
  }
  const chosen =
    args.kind === LoadBalancerKind.Haproxy
      ? "haproxy"
      : args.kind === LoadBalancerKind.AwsNlb
        ? "awsNlb"
        : undefined;
  if (chosen) {
    const other = chosen === "haproxy" ? "awsNlb" : "haproxy";
    if (args[chosen] === undefined) {
      errors.push({
        path: chosen,
        message: `${chosen} is required with kind ${show(args.kind)}, got undefined`,
      });
    }
    if (args[other] !== undefined) {
      errors.push({
        path: other,
        message: `Only one of [haproxy] or [awsNlb] can be specified: kind is ${show(args.kind)}, so give ${chosen} and remove ${other}`,
      });
    }
  }
  if (args.kind === LoadBalancerKind.Haproxy && args.haproxy !== undefined) {
    const r = haproxyProblems(args.haproxy, args);
    errors.push(...r.errors);
    warnings.push(...r.warnings);
  }
  if (args.kind === LoadBalancerKind.AwsNlb && args.awsNlb !== undefined) {
    const r = awsNlbProblems(args.awsNlb);
    errors.push(...r.errors);
    warnings.push(...r.warnings);
  }
  return { errors, warnings };
}

function haproxyProblems(h: HaproxyArgs, args: LoadBalancerArgs): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  if (typeof h !== "object" || h === null) {
    return {
      errors: [
        { path: "haproxy", message: `haproxy must be an object with hosts and backends, got ${show(h)}` },
      ],
      warnings,
    };
  }
  errors.push(...hostListProblems(h.hosts, "haproxy.hosts"));
  const hosts = Array.isArray(h.hosts) ? h.hosts : [];
  if (hosts.length === 1) {
    warnings.push({
      path: "haproxy.hosts",
      message: `haproxy.hosts has 1: the load balancer itself is a single point of failure; use 2 or more behind a KeepalivedVip`,
    });
  }
  errors.push(...backendProblems(h));
  const backends = Array.isArray(h.backends) ? h.backends : [];
  if (backends.length === 1) {
    warnings.push({
      path: "haproxy.backends",
      message: `haproxy.backends has 1: there is no other API server to fail over to`,
    });
  }
  if (h.bindAddress !== undefined) {
    if (!isPending(h.bindAddress) && !isIP(h.bindAddress)) {
      errors.push({
        path: "haproxy.bindAddress",
        message: `haproxy.bindAddress must be an IPv4 or IPv6 address (without prefix), got ${show(h.bindAddress)}`,
      });
    }
  } else if (hosts.length > 1) {
    warnings.push({
      path: "haproxy.bindAddress",
      message: `haproxy has ${hosts.length} hosts but no bindAddress: the address and endpoint outputs name the first host only; put a KeepalivedVip in front and set bindAddress to its address`,
    });
  }
  if (h.healthPort !== undefined && !isPort(h.healthPort)) {
    errors.push({
      path: "haproxy.healthPort",
      message: `haproxy.healthPort must be a port number 1-65535, got ${show(h.healthPort)}`,
    });
  } else if (isPort(args.port ?? DEFAULT_PORT)) {
    const health = h.healthPort ?? DEFAULT_HAPROXY_HEALTH_PORT;
    if (health === (args.port ?? DEFAULT_PORT)) {
      errors.push({
        path: "haproxy.healthPort",
        message: `haproxy.healthPort must differ from port, both are ${health}`,
      });
    }
  }
  errors.push(...ownApiPortProblems(h, args));
  const check = h.check ?? {};
  if (check.intervalMs !== undefined && !isWholeInRange(check.intervalMs, 100, 60000)) {
    errors.push({
      path: "haproxy.check.intervalMs",
      message: `haproxy.check.intervalMs must be a whole number of milliseconds 100-60000, got ${show(check.intervalMs)}`,
    });
  }
  for (const key of ["fall", "rise"] as const) {
    if (check[key] !== undefined && !isWholeInRange(check[key], 1, 100)) {
      errors.push({
        path: `haproxy.check.${key}`,
        message: `haproxy.check.${key} must be a whole number 1-100, got ${show(check[key])}`,
      });
    }
  }
  if (typeof h.caCertPem === "string" && !h.caCertPem.includes("-----BEGIN CERTIFICATE-----")) {
    errors.push({
      path: "haproxy.caCertPem",
      message: `haproxy.caCertPem must be a PEM certificate ("-----BEGIN CERTIFICATE-----..."), got ${show(h.caCertPem.slice(0, 40))}`,
    });
  }
  errors.push(...checkInstall(h.install, "haproxy.install", PACKAGE_INSTALL_RULES).problems);
  return { errors, warnings };
}

/**
 * HAProxy on `backendPort` of a host that is also a backend: kube-apiserver listens on every address of
 * that port there, so HAProxy could not bind it (or, bound to the VIP, would take the API server's place).
 */
function ownApiPortProblems(h: HaproxyArgs, args: LoadBalancerArgs): Problem[] {
  const port = args.port ?? DEFAULT_PORT;
  const backendPort = args.backendPort ?? DEFAULT_BACKEND_PORT;
  if (!isPort(port) || port !== backendPort || !Array.isArray(h.hosts) || !Array.isArray(h.backends))
    return [];
  const addresses = new Set(h.backends.map((b) => b?.address).filter((a) => typeof a === "string"));
  const i = h.hosts.findIndex((host) => typeof host?.address === "string" && addresses.has(host.address));
  if (i < 0) return [];
  return [
    {
      path: "port",
      message: `port must differ from backendPort (${backendPort}) when HAProxy runs on the API servers themselves (haproxy.hosts[${i}] ${show(h.hosts[i].address)} is also a backend, where kube-apiserver listens on every address of ${backendPort}); use 8443, got ${port}`,
    },
  ];
}

function backendProblems(h: HaproxyArgs): Problem[] {
  const problems: Problem[] = [];
  if (!Array.isArray(h.backends) || h.backends.length === 0) {
    problems.push({
      path: "haproxy.backends",
      message: `haproxy.backends must list at least one API server, got ${show(h.backends)}`,
    });
    return problems;
  }
  const names = new Map<unknown, number>();
  const addresses = new Map<unknown, number>();
  h.backends.forEach((b, i) => {
    const at = `haproxy.backends[${i}]`;
    problems.push(...uniqueNameProblems(names, b?.name, "haproxy.backends", i));
    if (isPending(b?.address)) {
      // Not known yet: checked with the same rules once it resolves.
    } else if (!isIP(b?.address) && !isDnsName(b?.address)) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address must be an IP address or a DNS name, got ${show(b?.address)}`,
      });
    } else if (addresses.has(addressKey(b.address))) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address ${show(b.address)} is already used by haproxy.backends[${addresses.get(addressKey(b.address))}]`,
      });
    } else {
      addresses.set(addressKey(b.address), i);
    }
  });
  return problems;
}
