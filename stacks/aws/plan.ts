/**
 * The AWS stack's plan, pure (no Pulumi import): the subnets it makes, the private address of every
 * instance, the ports each security group opens (./validate.ts checks its args). The program
 * (./program.ts) only turns this plan into resources.
 */
import { addressInBlock, childBlock, hostBits, parseCidr } from "../../components/net";

/** How the private subnets of a VPC made by the stack reach the internet (packages, images, releases). */
export enum AwsNatGateways {
  /** One NAT gateway per zone: a zone's outage does not cut the others off. The default. */
  PerZone = "perZone",
  /** One NAT gateway, in the first zone: cheaper, and a single point of failure for egress. */
  Single = "single",
  /** No internet egress: use golden images (`kubernetesInstall: preinstalled`, `etcdInstall: preinstalled`). */
  None = "none",
}

/** The pod network, as far as the security groups are concerned. */
export type CniPorts = "cilium" | "calico" | "none";

/** A private subnet the nodes live in: made by the stack, or given (`hakube:awsSubnets`). */
export interface SubnetPlan {
  zone: string;
  cidr: string;
}

export type NodeRole = "master" | "worker" | "etcd";

/** One EC2 instance: its name, role, subnet (by zone index) and fixed private address. */
export interface HostPlan {
  name: string;
  role: NodeRole;
  zoneIndex: number;
  address: string;
}

/** The ingress a security group rule opens: a port range (or ICMP type/code) of one protocol. */
export interface PortRule {
  /** Names the rule resource: `<sg>-<id>`. */
  id: string;
  protocol: "tcp" | "udp" | "icmp" | "-1";
  /** The first port, or the ICMP type. */
  fromPort: number;
  /** The last port, or the ICMP code. */
  toPort: number;
  description: string;
}

/** Defaults of the AWS stack, with where they come from. */
export const AWS_DEFAULTS = {
  /** Three zones of the most common region; the region's own zones must be given elsewhere. */
  zones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  /** RFC 1918; /16 leaves room for 6 zones of /19 private subnets. */
  vpcCidr: "10.0.0.0/16",
  natGateways: AwsNatGateways.PerZone,
  /** 3 masters tolerate the loss of one (stacked etcd quorum); 3 workers, one per zone. */
  masterCount: 3,
  workerCount: 3,
  etcdCount: 3,
  /**
   * m6i.large: 2 vCPUs and 8 GiB, not burstable. kubeadm needs 2 CPUs and 2 GB on a master; etcd's
   * hardware guide asks for 8 GB and steady CPU for a small production cluster.
   */
  masterInstanceType: "m6i.large",
  workerInstanceType: "m6i.large",
  etcdInstanceType: "m6i.large",
  /** gp3 (3000 IOPS baseline, which etcd's guide puts well above its needs for a small cluster). */
  rootVolumeGb: 50,
  /** Resolves in the VPC only (a Route 53 private hosted zone "hakube.internal"). */
  apiDnsName: "api.hakube.internal",
} as const;

/** AWS reserves the first four addresses and the last one of every subnet (VPC User Guide, "Subnet CIDR blocks"). */
export const AWS_RESERVED_HIGH = 1;

/**
 * Where each role's instances start in their zone's subnet: the k-th master of a zone is base + 10 + k,
 * etcd base + 20 + k, workers base + 32 + k. Fixed addresses, because hakube's components render them
 * into kubeadm's and etcd's configuration before the instances exist, and because a replaced instance
 * keeps its etcd identity.
 */
export const ADDRESS_OFFSETS: Record<NodeRole, { first: number; perZone?: number }> = {
  master: { first: 10, perZone: 10 },
  etcd: { first: 20, perZone: 12 },
  worker: { first: 32 },
};

/** VPC prefix lengths the subnet layout supports: /16 (the default) to /20. */
export const MIN_VPC_PREFIX = 16;
export const MAX_VPC_PREFIX = 20;
/** Private subnets are eighths of the VPC (zone i gets eighth i); public ones share the last eighth. */
const PRIVATE_SUBNET_BITS = 3;
const PUBLIC_SUBNET_BITS = 6;
const PUBLIC_FIRST_INDEX = 56;
export const MAX_ZONES = 6;

/**
 * The ports every Kubernetes node opens to the other nodes (the `nodes` security group, from itself),
 * per pod network, as the CNI's own documentation lists them.
 */
export const CNI_NODE_PORTS: Record<CniPorts, PortRule[]> = {
  // Cilium "System Requirements", firewall rules, VXLAN tunnel mode (Cilium's default routing mode).
  cilium: [
    {
      id: "cilium-vxlan",
      protocol: "udp",
      fromPort: 8472,
      toPort: 8472,
      description: "Cilium VXLAN overlay",
    },
    {
      id: "cilium-health",
      protocol: "tcp",
      fromPort: 4240,
      toPort: 4240,
      description: "Cilium health checks",
    },
    { id: "cilium-hubble", protocol: "tcp", fromPort: 4244, toPort: 4244, description: "Hubble server" },
    {
      id: "cilium-icmp",
      protocol: "icmp",
      fromPort: 8,
      toPort: 0,
      description: "Cilium health checks (ICMP echo)",
    },
  ],
  // Calico "Network requirements": VXLAN, Typha, and BGP (hakube's pool is VXLANCrossSubnet: within a
  // subnet, pods are routed natively, with routes shared over BGP).
  calico: [
    {
      id: "calico-vxlan",
      protocol: "udp",
      fromPort: 4789,
      toPort: 4789,
      description: "Calico VXLAN overlay",
    },
    { id: "calico-typha", protocol: "tcp", fromPort: 5473, toPort: 5473, description: "Calico Typha" },
    { id: "calico-bgp", protocol: "tcp", fromPort: 179, toPort: 179, description: "Calico BGP" },
  ],
  none: [],
};

/** The args that decide the plan (a subset of AwsStackArgs, plain values). */
export interface AwsPlanArgs {
  zones?: string[];
  vpcCidr?: string;
  natGateways?: AwsNatGateways;
  vpcId?: string;
  subnets?: Array<{ id: string; zone: string; cidr: string }>;
  masterCount?: number;
  workerCount?: number;
  etcdCount?: number;
  externalEtcd: boolean;
  sshCidrs?: string[];
  allowSshFromAnywhere?: boolean;
  bastionSecurityGroupId?: string;
  apiDnsName?: string;
  apiAllowedCidrs?: string[];
  hostKeys?: Record<string, string>;
}

export interface AwsPlan {
  /** True when the stack makes the VPC, its subnets, gateways and routes. */
  createsVpc: boolean;
  subnets: SubnetPlan[];
  /** VPC made by the stack: one small public subnet per zone, for the NAT gateways. */
  publicSubnets: SubnetPlan[];
  masters: HostPlan[];
  workers: HostPlan[];
  etcd: HostPlan[];
  /** The private hosted zone that holds `apiDnsName`. */
  apiZoneName: string;
  apiDnsName: string;
}

/** The `index`-th block of `newBits` more prefix bits inside `cidr` (valid, prefix + newBits within the family). */
export function childCidr(cidr: string, newBits: number, index: number): string {
  return childBlock(parseCidr(cidr)!, newBits, index);
}

/** The address `offset` places after the start of a block. */
export function hostAddress(cidr: string, offset: number): string {
  return addressInBlock(parseCidr(cidr)!, offset);
}

export function blockSize(cidr: string): number {
  return 2 ** hostBits(parseCidr(cidr)!);
}

/** Spread `count` instances of a role over the zones, round robin, at their role's fixed offsets. */
function place(role: NodeRole, prefix: string, count: number, subnets: SubnetPlan[]): HostPlan[] {
  return Array.from({ length: count }, (_, i) => {
    const zoneIndex = i % subnets.length;
    const slot = Math.floor(i / subnets.length);
    return {
      name: `${prefix}${i + 1}`,
      role,
      zoneIndex,
      address: hostAddress(subnets[zoneIndex].cidr, ADDRESS_OFFSETS[role].first + slot),
    };
  });
}

/** The plan; call only after {@link awsPlanProblems} returned nothing. */
export function planAws(a: AwsPlanArgs): AwsPlan {
  const createsVpc = a.vpcId === undefined && (a.subnets ?? []).length === 0;
  const vpcCidr = a.vpcCidr ?? AWS_DEFAULTS.vpcCidr;
  const zones = a.zones ?? [...AWS_DEFAULTS.zones];
  const subnets: SubnetPlan[] = createsVpc
    ? zones.map((zone, i) => ({ zone, cidr: childCidr(vpcCidr, PRIVATE_SUBNET_BITS, i) }))
    : (a.subnets ?? []).map((s) => ({ zone: s.zone, cidr: s.cidr }));
  const publicSubnets: SubnetPlan[] =
    createsVpc && (a.natGateways ?? AWS_DEFAULTS.natGateways) !== AwsNatGateways.None
      ? zones.map((zone, i) => ({
          zone,
          cidr: childCidr(vpcCidr, PUBLIC_SUBNET_BITS, PUBLIC_FIRST_INDEX + i),
        }))
      : [];
  const apiDnsName = a.apiDnsName ?? AWS_DEFAULTS.apiDnsName;
  return {
    createsVpc,
    subnets,
    publicSubnets,
    masters: place("master", "m", a.masterCount ?? AWS_DEFAULTS.masterCount, subnets),
    workers: place("worker", "w", a.workerCount ?? AWS_DEFAULTS.workerCount, subnets),
    etcd: a.externalEtcd ? place("etcd", "e", a.etcdCount ?? AWS_DEFAULTS.etcdCount, subnets) : [],
    apiZoneName: apiDnsName.split(".").slice(1).join("."),
    apiDnsName,
  };
}
