/**
 * The AWS stack's args checked, pure: every problem names the config key and the value received, and the
 * addresses are checked against the plan once the network and the counts are sound.
 */
import { isDnsName, parseCidr } from "../../components/net";
import { show } from "../../components/show";
import {
  ADDRESS_OFFSETS,
  AWS_DEFAULTS,
  AWS_RESERVED_HIGH,
  AwsPlanArgs,
  blockSize,
  HostPlan,
  MAX_VPC_PREFIX,
  MAX_ZONES,
  MIN_VPC_PREFIX,
  NodeRole,
  planAws,
} from "./plan";

/** Open to the whole internet. */
const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** Every problem in the args, each naming the config key and the value received. Empty when all is well. */
export function awsPlanProblems(a: AwsPlanArgs): string[] {
  const problems: string[] = [];
  const existing = a.vpcId !== undefined || (a.subnets ?? []).length > 0;
  if (existing) {
    if (!a.vpcId || !/^vpc-[0-9a-f]+$/.test(a.vpcId)) {
      problems.push(
        `hakube:awsVpcId must be a VPC id ("vpc-0123456789abcdef0") when hakube:awsSubnets is given, got ${show(a.vpcId)}`,
      );
    }
    const subnets = a.subnets ?? [];
    if (subnets.length < 2) {
      problems.push(
        `hakube:awsSubnets must list at least two private subnets of hakube:awsVpcId in different zones ({id, zone, cidr}), got ${subnets.length}`,
      );
    }
    subnets.forEach((s, i) => {
      if (!/^subnet-[0-9a-f]+$/.test(String(s?.id))) {
        problems.push(
          `hakube:awsSubnets[${i}].id must be a subnet id ("subnet-0123456789abcdef0"), got ${show(s?.id)}`,
        );
      }
      if (typeof s?.zone !== "string" || s.zone === "") {
        problems.push(
          `hakube:awsSubnets[${i}].zone must name the subnet's availability zone ("us-east-1a"), got ${show(s?.zone)}`,
        );
      }
      const c = parseCidr(s?.cidr);
      if (!c || c.family !== 4 || c.prefixLength > 26) {
        problems.push(
          `hakube:awsSubnets[${i}].cidr must be the subnet's IPv4 CIDR block, /26 or larger, got ${show(s?.cidr)}`,
        );
      }
    });
    problems.push(
      ...duplicateZones(
        subnets.map((s) => s?.zone),
        "hakube:awsSubnets[].zone",
      ),
    );
  } else {
    const zones = a.zones ?? [...AWS_DEFAULTS.zones];
    if (zones.length < 2 || zones.length > MAX_ZONES) {
      problems.push(
        `hakube:awsZones must list 2 to ${MAX_ZONES} availability zones (the NLB spans at least two), got ${show(zones)}`,
      );
    }
    problems.push(...duplicateZones(zones, "hakube:awsZones"));
    const vpc = parseCidr(a.vpcCidr ?? AWS_DEFAULTS.vpcCidr);
    if (!vpc || vpc.family !== 4 || vpc.prefixLength < MIN_VPC_PREFIX || vpc.prefixLength > MAX_VPC_PREFIX) {
      problems.push(
        `hakube:awsVpcCidr must be an IPv4 CIDR block from /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}, got ${show(a.vpcCidr)}`,
      );
    }
  }

  const counts: Array<[string, number | undefined, number]> = [
    ["hakube:awsMasterCount", a.masterCount, 1],
    ["hakube:awsWorkerCount", a.workerCount, 0],
    ["hakube:awsEtcdCount", a.etcdCount, 1],
  ];
  for (const [key, value, min] of counts) {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      problems.push(`${key} must be a whole number, at least ${min}, got ${show(value)}`);
    }
  }

  const sshCidrs = a.sshCidrs ?? [];
  sshCidrs.forEach((cidr, i) => {
    if (!parseCidr(cidr))
      problems.push(`hakube:awsSshCidrs[${i}] must be a CIDR block ("203.0.113.0/24"), got ${show(cidr)}`);
  });
  const open = sshCidrs.filter((c) => ANYWHERE.includes(c));
  if (open.length > 0 && a.allowSshFromAnywhere !== true) {
    problems.push(
      `hakube:awsSshCidrs opens SSH to the whole internet (${open.join(", ")}): name your admin network or bastion instead, or set hakube:awsAllowSshFromAnywhere to true if you really mean it`,
    );
  }
  if (sshCidrs.length === 0 && !a.bastionSecurityGroupId) {
    problems.push(
      "nothing may reach the instances over SSH, which hakube needs to configure them: set hakube:awsSshCidrs (the network `pulumi up` runs from) or hakube:bastion.securityGroupId (a bastion's security group)",
    );
  }
  if (a.bastionSecurityGroupId !== undefined && !/^sg-[0-9a-f]+$/.test(a.bastionSecurityGroupId)) {
    problems.push(
      `hakube:bastion.securityGroupId must be a security group id ("sg-0123456789abcdef0"), got ${show(a.bastionSecurityGroupId)}`,
    );
  }
  (a.apiAllowedCidrs ?? []).forEach((cidr, i) => {
    if (!parseCidr(cidr))
      problems.push(`hakube:awsApiAllowedCidrs[${i}] must be a CIDR block, got ${show(cidr)}`);
  });
  const dns = a.apiDnsName ?? AWS_DEFAULTS.apiDnsName;
  if (!isDnsName(dns) || dns.split(".").length < 3) {
    problems.push(
      `hakube:awsApiDnsName must be a lower-case DNS name of at least three labels ("api.<cluster>.internal": the record "api" in a private zone), got ${show(dns)}`,
    );
  }
  if (problems.length > 0) return problems;

  // Addresses: only once the network and counts are sound.
  const plan = planAws(a);
  const roles: Array<[NodeRole, HostPlan[], string]> = [
    ["master", plan.masters, "hakube:awsMasterCount"],
    ["etcd", plan.etcd, "hakube:awsEtcdCount"],
    ["worker", plan.workers, "hakube:awsWorkerCount"],
  ];
  for (const [role, hosts, key] of roles) {
    const perZone = Math.ceil(hosts.length / plan.subnets.length);
    const full = plan.subnets.find((s) => perZone > zoneCapacity(role, s.cidr));
    if (full) {
      problems.push(
        `${key} ${hosts.length} puts ${perZone} ${role} instances in zone ${full.zone}, but subnet ${full.cidr} holds at most ${zoneCapacity(role, full.cidr)} at hakube's fixed addresses; use more zones or larger subnets`,
      );
    }
  }
  const names = new Set([...plan.masters, ...plan.workers, ...plan.etcd].map((h) => h.name));
  for (const name of Object.keys(a.hostKeys ?? {})) {
    if (!names.has(name))
      problems.push(
        `hakube:awsHostKeys names ${show(name)}, which is no instance of this stack (${[...names].join(", ")})`,
      );
  }
  return problems;
}

/** How many instances of a role fit in one subnet at the role's fixed offsets. */
function zoneCapacity(role: NodeRole, cidr: string): number {
  const { first, perZone } = ADDRESS_OFFSETS[role];
  const lastUsable = blockSize(cidr) - 1 - AWS_RESERVED_HIGH;
  return Math.max(0, Math.min(perZone ?? Infinity, lastUsable - first + 1));
}

function duplicateZones(zones: unknown[], key: string): string[] {
  const seen = new Set<unknown>();
  const dup = zones.filter((z) => (seen.has(z) ? true : (seen.add(z), false)));
  return dup.length > 0 ? [`${key} must name different availability zones, got ${show(dup[0])} twice`] : [];
}
