/**
 * hakube's CrossGuard policies: the invariants of a highly available control plane, checked by `pulumi
 * preview --policy-pack policy/` on every resource a program registers, hakube's components and
 * hand-written AWS resources alike. Each policy is a plain function over a resource's type and
 * properties (`check`), wrapped for CrossGuard; policy.test.ts runs them over what the stacks register.
 *
 * What a policy sees of a hakube component is what the component registers as its properties: the
 * non-secret facts of components/facts.ts (member counts, flags, kinds), never its args.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  ResourceValidationArgs,
  ResourceValidationPolicy,
} from "@pulumi/policy";
import type { EtcdClusterFacts, HaControlPlaneFacts, KeepalivedVipFacts } from "../components/facts";

/** What a policy's check is given: one resource, and the stack it is in. */
export interface CheckedResource {
  type: string;
  props: Record<string, unknown>;
  /** The stack's name (from the resource's URN). */
  stack: string;
  /** The stack's tags (`pulumi stack tag set`). */
  stackTags: ReadonlyMap<string, string>;
  /** The policy's configuration (`--policy-pack-config`), defaults applied. */
  config: Record<string, unknown>;
}

/** One hakube policy: CrossGuard's fields plus the plain check it runs. */
export interface HakubePolicy extends ResourceValidationPolicy {
  name: string;
  enforcementLevel: EnforcementLevel;
  remediationSteps: string;
  /** The violations of one resource (empty: compliant). */
  check(r: CheckedResource): string[];
}

const ETCD_CLUSTER = "hakube:index:EtcdCluster";
const HA_CONTROL_PLANE = "hakube:index:HaControlPlane";
const KEEPALIVED_VIP = "hakube:index:KeepalivedVip";

/** The stack tag that says whether a stack is production ("true" or "false"); it wins over the name. */
export const PRODUCTION_TAG = "hakube:production";
/** Stack names taken as production unless the tag says otherwise: prod, production, prod-eu, eu-production, ... */
export const DEFAULT_PRODUCTION_STACKS = "(^|[-_.])(prod|production)($|[-_.])";

/** The stack name in a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackOfUrn(urn: string): string {
  return urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::")[0] : "";
}

/** A stack is production if its `hakube:production` tag is "true", or, without the tag, if its name matches `productionStacks`. */
export function isProduction(r: Pick<CheckedResource, "stack" | "stackTags" | "config">): boolean {
  const tag = r.stackTags.get(PRODUCTION_TAG);
  if (tag !== undefined) return tag.trim().toLowerCase() === "true";
  const pattern =
    typeof r.config.productionStacks === "string" ? r.config.productionStacks : DEFAULT_PRODUCTION_STACKS;
  return new RegExp(pattern, "i").test(r.stack);
}

const asNumber = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asObject = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Wrap a plain check for CrossGuard: one reported violation per message. */
function policy(p: Omit<HakubePolicy, "validateResource">): HakubePolicy {
  const validateResource = (args: ResourceValidationArgs, report: (message: string) => void) => {
    const r: CheckedResource = {
      type: args.type,
      props: args.props,
      stack: stackOfUrn(args.urn),
      stackTags: args.stackTags,
      config: { ...defaults(p.configSchema), ...args.getConfig<Record<string, unknown>>() },
    };
    for (const message of p.check(r)) report(message);
  };
  return { ...p, validateResource };
}

function defaults(schema: PolicyConfigSchema | undefined): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schema?.properties ?? {})
      .filter(([, s]) => s.default !== undefined)
      .map(([k, s]) => [k, s.default]),
  );
}

// ---------------------------------------------------------------------------------------------------

/** etcd's member count in production: odd and at least 3. */
export const etcdQuorum = policy({
  name: "hakube-etcd-quorum",
  description:
    "etcd needs a majority of its members (floor(n/2)+1) to work: fewer than 3 members survive no failure, and an even count " +
    "tolerates no more failures than the odd count below it while adding a member that can fail. Checked in production stacks.",
  remediationSteps:
    "Use 3, 5 or 7 members: EtcdCluster `members`, or HaControlPlane `masters` with stacked etcd. A stack is production when " +
    `its stack tag ${PRODUCTION_TAG} is "true", or (without the tag) when its name matches the policy's \`productionStacks\`.`,
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      productionStacks: {
        type: "string",
        default: DEFAULT_PRODUCTION_STACKS,
        description: `A regular expression (case-insensitive) of production stack names; the stack tag ${PRODUCTION_TAG} wins over it.`,
      },
    },
  },
  check(r) {
    let count: number | undefined;
    let what = "";
    if (r.type === ETCD_CLUSTER) {
      count = asNumber((r.props as Partial<EtcdClusterFacts>).memberCount);
      what = "EtcdCluster has";
    } else if (r.type === HA_CONTROL_PLANE) {
      const f = r.props as Partial<HaControlPlaneFacts>;
      if (f.etcdTopology !== "stacked") return [];
      count = asNumber(f.masterCount);
      what = "HaControlPlane with stacked etcd has";
    }
    if (count === undefined || !isProduction(r)) return [];
    if (count < 3)
      return [
        `${what} ${count} etcd member(s): it stops at the first failure (quorum ${Math.floor(count / 2) + 1} of ${count}). Use 3, 5 or 7 members.`,
      ];
    if (count % 2 === 0)
      return [
        `${what} ${count} etcd members: an even count tolerates ${count / 2 - 1} failure(s), no more than ${count - 1} members would. Use ${count - 1} or ${count + 1}.`,
      ];
    return [];
  },
});

/** A TCP port range of an ingress rule open to the whole Internet. */
interface OpenRange {
  protocol: string;
  from: number;
  to: number;
}

const ANYWHERE = new Set(["0.0.0.0/0", "::/0"]);
const TCP = new Set(["tcp", "6"]);
const ALL = new Set(["-1", "all"]);

/** The Internet-wide ingress ranges of a security group resource, of any of the three ways AWS has to write one. */
function openIngress(type: string, props: Record<string, unknown>): OpenRange[] {
  const range = (protocol: unknown, from: unknown, to: unknown): OpenRange => {
    const p = String(protocol ?? "").toLowerCase();
    return ALL.has(p)
      ? { protocol: p, from: 0, to: 65535 }
      : { protocol: p, from: asNumber(from) ?? 0, to: asNumber(to) ?? asNumber(from) ?? 65535 };
  };
  const open = (...cidrs: unknown[]) => cidrs.flatMap(asList).some((c) => ANYWHERE.has(String(c)));
  switch (type) {
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      return ANYWHERE.has(String(props.cidrIpv4)) || ANYWHERE.has(String(props.cidrIpv6))
        ? [range(props.ipProtocol, props.fromPort, props.toPort)]
        : [];
    case "aws:ec2/securityGroupRule:SecurityGroupRule":
      return props.type === "ingress" && open(props.cidrBlocks, props.ipv6CidrBlocks)
        ? [range(props.protocol, props.fromPort, props.toPort)]
        : [];
    case "aws:ec2/securityGroup:SecurityGroup":
      return asList(props.ingress)
        .map(asObject)
        .filter((i) => open(i.cidrBlocks, i.ipv6CidrBlocks))
        .map((i) => range(i.protocol, i.fromPort, i.toPort));
    default:
      return [];
  }
}

/** The control plane's ports, by what listens there. */
export const CONTROL_PLANE_PORTS: Record<string, number> = {
  SSH: 22,
  "etcd client": 2379,
  "etcd peer": 2380,
  "kube-apiserver": 6443,
};

/** etcd, kube-apiserver and SSH never open to 0.0.0.0/0 (or ::/0). */
export const noPublicControlPlanePorts = policy({
  name: "hakube-no-public-control-plane-ports",
  description:
    "etcd holds every Secret of the cluster, kube-apiserver is the cluster's front door and SSH is root on the masters: " +
    "none of them may be reachable from the whole Internet, where scanners find them within minutes.",
  remediationSteps:
    "Allow these ports from the security groups or CIDRs that need them only: the masters' and nodes' groups, the load " +
    "balancer's group, your VPN or bastion (hakube's AWS stack: awsSshCidrs, awsApiAllowedCidrs). Reach the API through " +
    "an internal load balancer, SSH through a bastion.",
  enforcementLevel: "mandatory",
  check(r) {
    return openIngress(r.type, r.props).flatMap(({ protocol, from, to }) =>
      Object.entries(CONTROL_PLANE_PORTS)
        .filter(([, port]) => (ALL.has(protocol) || TCP.has(protocol)) && from <= port && port <= to)
        .map(
          ([what, port]) =>
            `ingress ${protocol === "-1" ? "all traffic" : `${protocol} ${from === to ? from : `${from}-${to}`}`} from anywhere opens ${what} (${port}) to the Internet; allow only the groups or CIDRs that need it`,
        ),
    );
  },
});

const NLB_TYPES = new Set(["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"]);

/** A network load balancer across at least two zones, with cross-zone load balancing. */
export const nlbAcrossZones = policy({
  name: "hakube-nlb-across-zones",
  description:
    "An NLB has one node per subnet: in a single subnet (one Availability Zone) the API endpoint fails with that zone. " +
    "Without cross-zone load balancing, each zone's node sends only to the targets of its own zone: a zone whose masters " +
    "are down keeps receiving a share of the clients and fails them.",
  remediationSteps:
    "Give the NLB subnets in two or more Availability Zones (`subnets` or `subnetMappings`) and set " +
    "`enableCrossZoneLoadBalancing: true` (hakube's LoadBalancer kind awsNlb does both). Two subnets of one zone cannot " +
    "be told apart from subnet ids here: that case is not caught.",
  enforcementLevel: "mandatory",
  check(r) {
    if (!NLB_TYPES.has(r.type) || r.props.loadBalancerType !== "network") return [];
    const problems: string[] = [];
    const subnets = asList(r.props.subnets).length + asList(r.props.subnetMappings).length;
    if (subnets < 2)
      problems.push(
        `the NLB is in ${subnets} subnet(s): one Availability Zone at most, so the endpoint fails with it; use subnets in 2 or more zones`,
      );
    if (r.props.enableCrossZoneLoadBalancing !== true)
      problems.push(
        "the NLB has no cross-zone load balancing: a zone without healthy masters keeps getting clients; set enableCrossZoneLoadBalancing: true",
      );
    return problems;
  },
});

/** Instances (and launch templates) that require IMDSv2 tokens. */
export const instanceImdsv2 = policy({
  name: "hakube-instance-imdsv2",
  description:
    "IMDSv1 answers any plain GET to 169.254.169.254: a server-side request forgery in anything on the host (a pod with " +
    "host networking, a webhook) hands out the instance role's credentials. IMDSv2 requires a session token.",
  remediationSteps:
    'Set `metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }` on the instance or launch template ' +
    "(hop limit 1 keeps pods from reaching it).",
  enforcementLevel: "mandatory",
  check(r) {
    if (r.type !== "aws:ec2/instance:Instance" && r.type !== "aws:ec2/launchTemplate:LaunchTemplate")
      return [];
    const tokens = asObject(r.props.metadataOptions).httpTokens;
    return tokens === "required"
      ? []
      : [
          `metadataOptions.httpTokens is ${tokens === undefined ? "not set (IMDSv1 allowed)" : JSON.stringify(tokens)}: require IMDSv2 with httpTokens: "required"`,
        ];
  },
});

/** Instance volumes, launch template volumes and EBS volumes encrypted. */
export const encryptedVolumes = policy({
  name: "hakube-encrypted-volumes",
  description:
    "A master's disk holds etcd's data (every Secret) and the cluster's private keys; an unencrypted volume or snapshot " +
    "of it gives them to whoever can read it.",
  remediationSteps:
    "Set `encrypted: true` on `rootBlockDevice` and every `ebsBlockDevices` entry (instances), every " +
    "`blockDeviceMappings[].ebs` (launch templates) and every aws.ebs.Volume. Account-wide EBS encryption by default " +
    "is not visible to a policy: say so explicitly on the resource, or set this policy to advisory.",
  enforcementLevel: "mandatory",
  check(r) {
    const unencrypted = (where: string, v: unknown) =>
      asObject(v).encrypted === true ? [] : [`${where} is not encrypted: set encrypted: true`];
    switch (r.type) {
      case "aws:ec2/instance:Instance":
        return [
          ...unencrypted("rootBlockDevice", r.props.rootBlockDevice),
          ...asList(r.props.ebsBlockDevices).flatMap((d, i) => unencrypted(`ebsBlockDevices[${i}]`, d)),
        ];
      case "aws:ec2/launchTemplate:LaunchTemplate":
        return asList(r.props.blockDeviceMappings).flatMap((m, i) =>
          asObject(m).ebs === undefined ? [] : unencrypted(`blockDeviceMappings[${i}].ebs`, asObject(m).ebs),
        );
      case "aws:ebs/volume:Volume":
        return unencrypted("the volume", r.props);
      default:
        return [];
    }
  },
});

/** HaControlPlane keeps Secret encryption at rest and audit logging on. */
export const controlPlaneHardening = policy({
  name: "hakube-control-plane-hardening",
  description:
    "Without encryption at rest every Secret lies in etcd's data and snapshots in plain text; without an audit log nobody " +
    "can tell who read or changed what. hakube turns both on by default: turning one off needs a reviewed exception.",
  remediationSteps:
    "Remove `apiServer.secretsEncryption.enabled: false` and `apiServer.audit.enabled: false` from the HaControlPlane " +
    "args (or set them to true). For a reviewed exception, set this policy to advisory or disabled in the pack's config.",
  enforcementLevel: "mandatory",
  check(r) {
    if (r.type !== HA_CONTROL_PLANE) return [];
    const f = r.props as Partial<HaControlPlaneFacts>;
    const problems: string[] = [];
    if (f.secretsEncryption === false)
      problems.push(
        "Secrets are not encrypted at rest (apiServer.secretsEncryption.enabled: false): turn it on",
      );
    if (f.auditLog === false)
      problems.push("the API servers write no audit log (apiServer.audit.enabled: false): turn it on");
    return problems;
  },
});

/** A KeepalivedVip moves away from a holder whose service fails. */
export const vipHealthCheck = policy({
  name: "hakube-vip-health-check",
  description:
    "Without a health check keepalived moves the VIP only when a host, its interface or keepalived itself fails: a " +
    "master whose kube-apiserver (or HAProxy) is down keeps the VIP, and the whole cluster's endpoint with it.",
  remediationSteps:
    'Set `healthCheck: { kind: "apiServer" }` (the default: the member\'s own kube-apiserver) or `{ kind: "haproxy" }` ' +
    "(a LoadBalancer of kind haproxy on the same hosts) on the KeepalivedVip.",
  enforcementLevel: "mandatory",
  check(r) {
    if (r.type !== KEEPALIVED_VIP) return [];
    const kind = (r.props as Partial<KeepalivedVipFacts>).healthCheckKind;
    return kind === "none"
      ? ["the VIP has no health check (healthCheck.kind: none): a holder whose API server is down keeps it"]
      : [];
  },
});

/** Every policy of the pack. */
export const policies: HakubePolicy[] = [
  etcdQuorum,
  noPublicControlPlanePorts,
  nlbAcrossZones,
  instanceImdsv2,
  encryptedVolumes,
  controlPlaneHardening,
  vipHealthCheck,
];
