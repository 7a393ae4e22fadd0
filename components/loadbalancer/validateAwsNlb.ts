/**
 * Pure validation of LoadBalancerArgs' awsNlb block: the VPC, subnets, scheme, targets, CIDRs and health
 * check. validateLoadBalancerArgs (./validate.ts) calls it for kind awsNlb.
 */
import {
  isWholeInRange,
  oneOfProblems,
  uniqueNameProblems,
  Problem,
  show,
  ValidationResult,
} from "../validation";
import {
  DEFAULT_NLB_HEALTH_CHECK_INTERVAL_SECONDS,
  DEFAULT_NLB_HEALTH_CHECK_TIMEOUT_SECONDS,
  NLB_INTERVAL_RANGE,
  NLB_THRESHOLD_RANGE,
  NLB_TIMEOUT_RANGE,
} from "./defaults";
import { ipFamily, parseCidrBlock } from "../net";
import { AwsNlbArgs, AwsNlbScheme, AwsNlbTargetType } from "./types";

export function awsNlbProblems(n: AwsNlbArgs): ValidationResult {
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
  errors.push(...oneOfProblems(n.scheme, AwsNlbScheme, "awsNlb.scheme"));
  errors.push(...oneOfProblems(n.targetType, AwsNlbTargetType, "awsNlb.targetType"));
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
    problems.push(...uniqueNameProblems(names, t?.name, "awsNlb.targets", i));
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
