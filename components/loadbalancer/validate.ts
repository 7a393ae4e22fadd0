/**
 * Pure validation of LoadBalancerArgs: every rule returns problems that name the argument and the value.
 * Runs synchronously in the LoadBalancer constructor, before any resource exists.
 */
import {
  hostListProblems,
  isDnsLabel,
  isIP,
  isPending,
  isPort,
  isWholeInRange,
  Problem,
  show,
  ValidationResult,
} from "../validation";
import {
  DEFAULT_BACKEND_PORT,
  DEFAULT_HAPROXY_HEALTH_PORT,
  DEFAULT_NLB_HEALTH_CHECK_INTERVAL_SECONDS,
  DEFAULT_NLB_HEALTH_CHECK_TIMEOUT_SECONDS,
  DEFAULT_PORT,
  NLB_INTERVAL_RANGE,
  NLB_THRESHOLD_RANGE,
  NLB_TIMEOUT_RANGE,
} from "./defaults";
import { ipFamily, parseCidrBlock } from "../net";
import {
  AwsNlbArgs,
  AwsNlbScheme,
  AwsNlbTargetType,
  HaproxyArgs,
  LoadBalancerArgs,
  LoadBalancerKind,
} from "./types";
import { checkInstall, PACKAGE_INSTALL_RULES } from "../install";

/** A DNS name (RFC 1123 labels joined by dots), as HAProxy can resolve it at start. */
function isDnsName(v: unknown): boolean {
  return typeof v === "string" && v.length <= 253 && v.split(".").every((l) => isDnsLabel(l));
}

export function validateLoadBalancerArgs(args: LoadBalancerArgs | undefined): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  if (!args || typeof args !== "object") {
    return {
      errors: [
        {
          path: "",
          message: `args must be an object with kind and its block of settings, got ${show(args)}`,
        },
      ],
      warnings,
    };
  }
  const kinds = Object.values(LoadBalancerKind) as string[];
  if (!kinds.includes(args.kind)) {
    errors.push({ path: "kind", message: `kind must be one of ${kinds.join(", ")}, got ${show(args.kind)}` });
  }
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
    if (!isDnsLabel(b?.name)) {
      problems.push({
        path: `${at}.name`,
        message: `${at}.name must be a DNS label (lower-case letters, digits and '-', 1-63 characters), got ${show(b?.name)}`,
      });
    } else if (names.has(b.name)) {
      problems.push({
        path: `${at}.name`,
        message: `${at}.name ${show(b.name)} is already used by haproxy.backends[${names.get(b.name)}]`,
      });
    } else {
      names.set(b.name, i);
    }
    if (isPending(b?.address)) {
      // Not known yet: checked with the same rules once it resolves.
    } else if (!isIP(b?.address) && !isDnsName(b?.address)) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address must be an IP address or a DNS name, got ${show(b?.address)}`,
      });
    } else if (addresses.has(b.address)) {
      problems.push({
        path: `${at}.address`,
        message: `${at}.address ${show(b.address)} is already used by haproxy.backends[${addresses.get(b.address)}]`,
      });
    } else {
      addresses.set(b.address, i);
    }
  });
  return problems;
}

function awsNlbProblems(n: AwsNlbArgs): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  if (typeof n !== "object" || n === null) {
    return {
      errors: [
        { path: "awsNlb", message: `awsNlb must be an object with vpcId and subnetIds, got ${show(n)}` },
      ],
      warnings,
    };
  }
  if (n.vpcId === undefined || (typeof n.vpcId === "string" && !/^vpc-[0-9a-f]{8,17}$/.test(n.vpcId))) {
    errors.push({
      path: "awsNlb.vpcId",
      message: `awsNlb.vpcId must be a VPC id such as "vpc-0123456789abcdef0", got ${show(n.vpcId)}`,
    });
  }
  if (!Array.isArray(n.subnetIds) || n.subnetIds.length < 2) {
    errors.push({
      path: "awsNlb.subnetIds",
      message: `awsNlb.subnetIds must list at least two subnets in different Availability Zones, got ${Array.isArray(n.subnetIds) ? n.subnetIds.length : show(n.subnetIds)}`,
    });
  } else {
    const seen = new Map<string, number>();
    n.subnetIds.forEach((id, i) => {
      if (typeof id !== "string") return; // an Output: checked by AWS
      if (!/^subnet-[0-9a-f]{8,17}$/.test(id)) {
        errors.push({
          path: `awsNlb.subnetIds[${i}]`,
          message: `awsNlb.subnetIds[${i}] must be a subnet id such as "subnet-0123456789abcdef0", got ${show(id)}`,
        });
      } else if (seen.has(id)) {
        errors.push({
          path: `awsNlb.subnetIds[${i}]`,
          message: `awsNlb.subnetIds[${i}] ${show(id)} is already listed at awsNlb.subnetIds[${seen.get(id)}]`,
        });
      } else {
        seen.set(id, i);
      }
    });
  }
  const schemes = Object.values(AwsNlbScheme) as string[];
  if (n.scheme !== undefined && !schemes.includes(n.scheme)) {
    errors.push({
      path: "awsNlb.scheme",
      message: `awsNlb.scheme must be one of ${schemes.join(", ")}, got ${show(n.scheme)}`,
    });
  }
  const types = Object.values(AwsNlbTargetType) as string[];
  if (n.targetType !== undefined && !types.includes(n.targetType)) {
    errors.push({
      path: "awsNlb.targetType",
      message: `awsNlb.targetType must be one of ${types.join(", ")}, got ${show(n.targetType)}`,
    });
  }
  errors.push(...targetProblems(n));
  if (n.allowedCidrs !== undefined) {
    if (!Array.isArray(n.allowedCidrs) || n.allowedCidrs.length === 0) {
      errors.push({
        path: "awsNlb.allowedCidrs",
        message: `awsNlb.allowedCidrs must list at least one CIDR block (leave it out for the VPC's own), got ${show(n.allowedCidrs)}`,
      });
    } else {
      n.allowedCidrs.forEach((c, i) => {
        const p = parseCidrBlock(c);
        if (!p) {
          errors.push({
            path: `awsNlb.allowedCidrs[${i}]`,
            message: `awsNlb.allowedCidrs[${i}] must be a CIDR block with no host bits set, such as "10.0.0.0/16", got ${show(c)}`,
          });
        } else if (p.prefixLength === 0) {
          warnings.push({
            path: `awsNlb.allowedCidrs[${i}]`,
            message: `awsNlb.allowedCidrs[${i}] is ${show(c)}: anyone who can route to the load balancer may connect to the Kubernetes API`,
          });
        }
      });
    }
  } else if (n.scheme === AwsNlbScheme.InternetFacing) {
    warnings.push({
      path: "awsNlb.allowedCidrs",
      message: `awsNlb.scheme is "internet-facing" but allowedCidrs is not set: only the VPC's own CIDR block may connect; list the client networks in allowedCidrs`,
    });
  }
  (n.targetSecurityGroupIds ?? []).forEach((id, i) => {
    if (typeof id === "string" && !/^sg-[0-9a-f]{8,17}$/.test(id)) {
      errors.push({
        path: `awsNlb.targetSecurityGroupIds[${i}]`,
        message: `awsNlb.targetSecurityGroupIds[${i}] must be a security group id such as "sg-0123456789abcdef0", got ${show(id)}`,
      });
    }
  });
  errors.push(...nlbHealthCheckProblems(n));
  return { errors, warnings };
}

function targetProblems(n: AwsNlbArgs): Problem[] {
  const problems: Problem[] = [];
  if (n.targets === undefined) return problems;
  if (!Array.isArray(n.targets)) {
    return [{ path: "awsNlb.targets", message: `awsNlb.targets must be a list, got ${show(n.targets)}` }];
  }
  const type = n.targetType ?? AwsNlbTargetType.Instance;
  const names = new Map<unknown, number>();
  n.targets.forEach((t, i) => {
    const at = `awsNlb.targets[${i}]`;
    if (!isDnsLabel(t?.name)) {
      problems.push({
        path: `${at}.name`,
        message: `${at}.name must be a DNS label (lower-case letters, digits and '-', 1-63 characters), got ${show(t?.name)}`,
      });
    } else if (names.has(t.name)) {
      problems.push({
        path: `${at}.name`,
        message: `${at}.name ${show(t.name)} is already used by awsNlb.targets[${names.get(t.name)}]`,
      });
    } else {
      names.set(t.name, i);
    }
    const id = t?.id;
    if (id === undefined) {
      problems.push({ path: `${at}.id`, message: `${at}.id is required, got undefined` });
    } else if (typeof id === "string") {
      if (type === AwsNlbTargetType.Instance && !/^i-[0-9a-f]{8,17}$/.test(id)) {
        problems.push({
          path: `${at}.id`,
          message: `${at}.id must be an EC2 instance id such as "i-0123456789abcdef0" with targetType "instance", got ${show(id)}`,
        });
      }
      if (type === AwsNlbTargetType.Ip && !ipFamily(id)) {
        problems.push({
          path: `${at}.id`,
          message: `${at}.id must be an IP address with targetType "ip", got ${show(id)}`,
        });
      }
    }
  });
  return problems;
}

function nlbHealthCheckProblems(n: AwsNlbArgs): Problem[] {
  const problems: Problem[] = [];
  const hc = n.healthCheck ?? {};
  const ranges: Array<[keyof typeof hc, readonly [number, number]]> = [
    ["intervalSeconds", NLB_INTERVAL_RANGE],
    ["timeoutSeconds", NLB_TIMEOUT_RANGE],
    ["healthyThreshold", NLB_THRESHOLD_RANGE],
    ["unhealthyThreshold", NLB_THRESHOLD_RANGE],
  ];
  for (const [key, [min, max]] of ranges) {
    if (hc[key] !== undefined && !isWholeInRange(hc[key], min, max)) {
      problems.push({
        path: `awsNlb.healthCheck.${key}`,
        message: `awsNlb.healthCheck.${key} must be a whole number ${min}-${max} (AWS's range for NLB target groups), got ${show(hc[key])}`,
      });
    }
  }
  const interval = hc.intervalSeconds ?? DEFAULT_NLB_HEALTH_CHECK_INTERVAL_SECONDS;
  const timeout = hc.timeoutSeconds ?? DEFAULT_NLB_HEALTH_CHECK_TIMEOUT_SECONDS;
  if (problems.length === 0 && timeout >= interval) {
    problems.push({
      path: "awsNlb.healthCheck.timeoutSeconds",
      message: `awsNlb.healthCheck.timeoutSeconds must be less than the interval (${interval} s), got ${timeout}`,
    });
  }
  return problems;
}
