/**
 * The AWS stack: a VPC across availability zones (or given private subnets), security groups per role,
 * an ED25519 key pair, masters and workers (and etcd hosts) as EC2 instances with fixed private
 * addresses, an internal NLB (hakube.LoadBalancer kind awsNlb) in front of the masters under a private
 * DNS name, and hakube's HaControlPlane (stacked etcd, or hakube.EtcdCluster on its own instances).
 *
 * A thin program: the plan (subnets, addresses, ports, checks) is pure and lives in ./plan.ts; this file
 * only turns it into resources. stacks/index.ts builds {@link AwsStackArgs} from `hakube:*` config.
 *
 * Where 0.0.0.0/0 appears, and why:
 * - `nodes-egress-all`, `etcd-egress-all`: instances may connect anywhere (package repositories, container
 *   registries, etcd releases), through the NAT gateways; nothing from outside may connect in.
 * - `public-default-route`, `private-default-route-<zone>`: the routes to the internet gateway and to the
 *   NAT gateways (VPC made by the stack only).
 * - `nodes-ssh-*`, `etcd-ssh-*`: only if `sshCidrs` lists it and `allowSshFromAnywhere` is true.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as route53 from "@pulumi/aws/route53";
import * as vpc from "@pulumi/aws/vpc";
import * as tls from "@pulumi/tls";
import * as hakube from "../../index";
import { externalEtcd, type ClusterArgs, type EtcdStackArgs } from "../shared";
import {
  API_PORT,
  AWS_DEFAULTS,
  AwsNatGateways,
  awsPlanProblems,
  CNI_NODE_PORTS,
  CniPorts,
  HostPlan,
  planAws,
  PortRule,
} from "./plan";

export type { ClusterArgs, EtcdStackArgs } from "../shared";

/** An existing private subnet: the id, its zone, and its CIDR block (instances get fixed addresses in it). */
export interface AwsSubnetArgs {
  id: string;
  zone: string;
  cidr: string;
}

export interface AwsStackArgs {
  /** Goes into every Name tag and description ("<name>-m1"): stacks/index.ts passes the stack's name. */
  name: string;
  /** The AMI of every instance: Debian 12 or Ubuntu 22.04/24.04 (apt), or a golden image. */
  ami: string;
  /** Zones of the VPC the stack makes. @default AWS_DEFAULTS.zones */
  zones?: string[];
  /** @default AWS_DEFAULTS.vpcCidr */
  vpcCidr?: string;
  /** @default AwsNatGateways.PerZone */
  natGateways?: AwsNatGateways;
  /** An existing VPC instead (with `subnets`): the stack then makes no VPC, subnet, gateway or route. */
  vpcId?: string;
  /** Existing private subnets in different zones, with a route to the internet or the images' needs met. */
  subnets?: AwsSubnetArgs[];
  /** @default 3 */
  masterCount?: number;
  /** @default 3 */
  workerCount?: number;
  /** External etcd only. @default 3 */
  etcdCount?: number;
  /** @default AWS_DEFAULTS.masterInstanceType */
  masterInstanceType?: string;
  /** @default AWS_DEFAULTS.workerInstanceType */
  workerInstanceType?: string;
  /** @default AWS_DEFAULTS.etcdInstanceType */
  etcdInstanceType?: string;
  /** @default AWS_DEFAULTS.rootVolumeGb */
  rootVolumeGb?: number;
  /** Networks that may open SSH connections to the instances (where `pulumi up` runs). @default none */
  sshCidrs?: string[];
  /** Needed, with "0.0.0.0/0" in `sshCidrs`, to open SSH to the internet. @default false */
  allowSshFromAnywhere?: boolean;
  /** A bastion to reach the private addresses through. @default none: direct connections */
  bastion?: hakube.ProxyConnectionArgs;
  /** The bastion's security group: SSH is allowed from it. */
  bastionSecurityGroupId?: string;
  /**
   * Host keys to pin, by instance name ("m1": "ssh-ed25519 AAAA..."). EC2 makes an instance's host keys
   * at first boot, so they cannot be known when it is created: read them from the console output
   * (`aws ec2 get-console-output`) after the first `pulumi up`, then set them. @default none: not pinned
   */
  hostKeys?: Record<string, string>;
  /** The API's name in a private hosted zone of the VPC, a CNAME of the NLB. @default AWS_DEFAULTS.apiDnsName */
  apiDnsName?: string;
  /** Networks the NLB admits on 6443. @default the VPC's CIDR block (LoadBalancer's default) */
  apiAllowedCidrs?: string[];
  kubernetes: ClusterArgs;
  /** @default { topology: hakube.EtcdTopology.Stacked } */
  etcd?: EtcdStackArgs;
  /** Tags for every AWS resource. */
  tags?: Record<string, string>;
}

/**
 * cloud-init setting for every instance: hakube's host scripts run as root, and cloud images put a "log
 * in as <default user>" command in front of root's key unless told otherwise.
 */
export const ROOT_LOGIN_USER_DATA = "#cloud-config\ndisable_root: false\n";

/**
 * SSH dial attempts per connection: instances are reachable a minute or two after they are created
 * (@pulumi/command's default of 10 attempts can fall short while sshd starts).
 */
export const SSH_DIAL_ERROR_LIMIT = 30;

/** etcd's client and peer ports (EtcdCluster's defaults and kubeadm's stacked etcd). */
const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
/** kubelet's API (kubeadm's "Ports and Protocols"). */
const KUBELET_PORT = 10250;
const SSH_PORT = 22;
/** HaControlPlane's default pod network (kubeadm's documentation's example); a unit test keeps them equal. */
export const DEFAULT_POD_SUBNET = "10.244.0.0/16";

export function awsStack(args: AwsStackArgs) {
  const etcdTopology = args.etcd?.topology ?? hakube.EtcdTopology.Stacked;
  const external = etcdTopology === hakube.EtcdTopology.External;
  const planArgs = { ...args, externalEtcd: external };
  const problems = awsPlanProblems(planArgs);
  if (problems.length > 0) {
    throw new pulumi.RunError(
      `the aws stack has invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  const plan = planAws(planArgs);
  const tags = args.tags ?? {};
  const named = (n: string) => ({ ...tags, Name: `${args.name}-${n}` });

  // The network: made here, or given.
  const network = plan.createsVpc
    ? makeNetwork(args, plan.subnets, plan.publicSubnets, named)
    : {
        vpcId: pulumi.output(args.vpcId!),
        subnetIds: args.subnets!.map((s) => pulumi.output(s.id)),
      };

  // Security groups: every Kubernetes node is in `nodes`, masters also in `masters`, etcd hosts in `etcd`.
  const sg = (id: string, description: string) =>
    new ec2.SecurityGroup(`${id}-sg`, { vpcId: network.vpcId, description, tags: named(id) });
  const nodesSg = sg("nodes", `hakube ${args.name}: every Kubernetes node`);
  const mastersSg = sg("masters", `hakube ${args.name}: control-plane nodes`);
  const etcdSg = external ? sg("etcd", `hakube ${args.name}: etcd hosts`) : undefined;

  const ingress = (
    name: string,
    to: ec2.SecurityGroup,
    rule: PortRule,
    from: { sg?: pulumi.Input<string>; cidr?: string },
  ) =>
    new vpc.SecurityGroupIngressRule(name, {
      securityGroupId: to.id,
      ipProtocol: rule.protocol,
      fromPort: rule.protocol === "-1" ? undefined : rule.fromPort,
      toPort: rule.protocol === "-1" ? undefined : rule.toPort,
      referencedSecurityGroupId: from.sg,
      ...(from.cidr === undefined
        ? {}
        : from.cidr.includes(":")
          ? { cidrIpv6: from.cidr }
          : { cidrIpv4: from.cidr }),
      description: rule.description,
      tags,
    });
  const tcp = (id: string, from: number, to: number, description: string): PortRule => ({
    id,
    protocol: "tcp",
    fromPort: from,
    toPort: to,
    description,
  });
  const sshRules = (prefix: string, to: ec2.SecurityGroup) => {
    const ssh = tcp("ssh", SSH_PORT, SSH_PORT, "SSH: hakube configures the hosts");
    (args.sshCidrs ?? []).forEach((cidr, i) => ingress(`${prefix}-ssh-${i}`, to, ssh, { cidr }));
    if (args.bastionSecurityGroupId) {
      ingress(`${prefix}-ssh-bastion`, to, ssh, { sg: args.bastionSecurityGroupId });
    }
  };
  const egressAll = (prefix: string, from: ec2.SecurityGroup) =>
    new vpc.SecurityGroupEgressRule(`${prefix}-egress-all`, {
      securityGroupId: from.id,
      ipProtocol: "-1",
      cidrIpv4: "0.0.0.0/0",
      description: "Outbound: package repositories, container registries, releases (through NAT)",
      tags,
    });

  sshRules("nodes", nodesSg);
  ingress(
    "nodes-kubelet-from-masters",
    nodesSg,
    tcp("kubelet", KUBELET_PORT, KUBELET_PORT, "kubelet API, from the API servers"),
    { sg: mastersSg.id },
  );
  const cni = cniPorts(args.kubernetes.cni);
  for (const rule of CNI_NODE_PORTS[cni]) ingress(`nodes-${rule.id}`, nodesSg, rule, { sg: nodesSg.id });
  if (cni === "calico") {
    // VXLANCrossSubnet: within a subnet pods are routed natively, with their own addresses as source.
    ingress(
      "nodes-calico-pods",
      nodesSg,
      {
        id: "pods",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        description: "Calico: pods routed natively within a subnet",
      },
      { cidr: args.kubernetes.podSubnet ?? DEFAULT_POD_SUBNET },
    );
  }
  egressAll("nodes", nodesSg);
  ingress(
    "masters-api-from-nodes",
    mastersSg,
    tcp("api", API_PORT, API_PORT, "Kubernetes API, from every node"),
    { sg: nodesSg.id },
  );
  if (!external) {
    ingress(
      "masters-etcd",
      mastersSg,
      tcp("etcd", ETCD_CLIENT_PORT, ETCD_PEER_PORT, "stacked etcd: clients and peers, between masters"),
      { sg: mastersSg.id },
    );
  }
  if (etcdSg) {
    ingress(
      "etcd-client-from-masters",
      etcdSg,
      tcp("client", ETCD_CLIENT_PORT, ETCD_CLIENT_PORT, "etcd clients: the API servers"),
      { sg: mastersSg.id },
    );
    ingress(
      "etcd-peers",
      etcdSg,
      tcp("peers", ETCD_CLIENT_PORT, ETCD_PEER_PORT, "etcd: clients and peers, between members"),
      { sg: etcdSg.id },
    );
    sshRules("etcd", etcdSg);
    egressAll("etcd", etcdSg);
  }

  // One ED25519 key for every instance; its private half stays in the state (secret) and in the outputs.
  const sshKey = new tls.PrivateKey("ssh-key", { algorithm: "ED25519" });
  const keyPair = new ec2.KeyPair("ssh-keypair", { publicKey: sshKey.publicKeyOpenssh, tags: named("ssh") });

  const instanceType = {
    master: args.masterInstanceType,
    worker: args.workerInstanceType,
    etcd: args.etcdInstanceType,
  };
  const defaultType = {
    master: AWS_DEFAULTS.masterInstanceType,
    worker: AWS_DEFAULTS.workerInstanceType,
    etcd: AWS_DEFAULTS.etcdInstanceType,
  };
  const groups = {
    master: [nodesSg.id, mastersSg.id],
    worker: [nodesSg.id],
    etcd: etcdSg ? [etcdSg.id] : [],
  };
  const instance = (h: HostPlan) =>
    new ec2.Instance(
      h.name,
      {
        ami: args.ami,
        instanceType: instanceType[h.role] ?? defaultType[h.role],
        subnetId: network.subnetIds[h.zoneIndex],
        privateIp: h.address,
        associatePublicIpAddress: false,
        vpcSecurityGroupIds: groups[h.role],
        keyName: keyPair.keyName,
        userData: ROOT_LOGIN_USER_DATA,
        // Calico routes pods natively within a subnet: their addresses are not the instance's own.
        sourceDestCheck: !(cni === "calico" && h.role !== "etcd"),
        rootBlockDevice: {
          volumeType: "gp3",
          volumeSize: args.rootVolumeGb ?? AWS_DEFAULTS.rootVolumeGb,
          encrypted: true,
          deleteOnTermination: true,
        },
        // IMDSv2 only, one hop: containers (one hop further) cannot read the instance's credentials.
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        tags: { ...named(h.name), "hakube:role": h.role },
      },
      // A new AMI in the config must not replace running masters: hakube does not remove nodes (yet).
      { ignoreChanges: ["ami"] },
    );
  const masters = plan.masters.map((h) => ({ plan: h, instance: instance(h) }));
  const workers = plan.workers.map((h) => ({ plan: h, instance: instance(h) }));
  const etcdHosts = plan.etcd.map((h) => ({ plan: h, instance: instance(h) }));

  // The instance's privateIp (the plan's fixed address, once the instance exists): hakube's commands on a
  // host wait for its instance through this output, without dependsOn.
  const hostArgs = ({
    plan: h,
    instance: vm,
  }: {
    plan: HostPlan;
    instance: ec2.Instance;
  }): hakube.HostArgs => ({
    name: h.name,
    address: vm.privateIp,
    connection: {
      host: vm.privateIp,
      user: "root",
      privateKey: sshKey.privateKeyOpenssh,
      hostKey: args.hostKeys?.[h.name],
      proxy: args.bastion,
      dialErrorLimit: SSH_DIAL_ERROR_LIMIT,
    },
  });

  // The API endpoint: an internal NLB in front of the masters, named in a private zone of the VPC.
  const api = new hakube.LoadBalancer("api", {
    kind: hakube.LoadBalancerKind.AwsNlb,
    port: API_PORT,
    awsNlb: {
      vpcId: network.vpcId,
      subnetIds: network.subnetIds,
      scheme: hakube.AwsNlbScheme.Internal,
      targets: masters.map((m) => ({ name: m.plan.name, id: m.instance.id })),
      targetSecurityGroupIds: [mastersSg.id],
      allowedCidrs:
        args.apiAllowedCidrs && args.apiAllowedCidrs.length > 0 ? args.apiAllowedCidrs : undefined,
      tags,
    },
  });
  const zone = new route53.Zone("api-zone", {
    name: plan.apiZoneName,
    comment: `hakube ${args.name}: the Kubernetes API's name`,
    vpcs: [{ vpcId: network.vpcId }],
    tags: named("api"),
  });
  const record = new route53.Record("api-record", {
    zoneId: zone.zoneId,
    name: plan.apiDnsName,
    type: "CNAME",
    ttl: 60,
    records: [api.address],
  });

  const etcd = external
    ? new hakube.EtcdCluster("etcd", {
        members: etcdHosts.map(hostArgs),
        version: args.etcd?.version,
        install: args.etcd?.install,
      })
    : undefined;

  // kubeadm init reaches the API through the endpoint: the NLB (its endpoint resolves once the listener and
  // targets exist) and its name first, through this output; the instances through their addresses, an
  // external etcd through its outputs. No dependsOn.
  const endpoint = pulumi.all([api.endpoint, record.fqdn]).apply(() => `${plan.apiDnsName}:${API_PORT}`);
  const k8s = new hakube.HaControlPlane("k8s", {
    ...args.kubernetes,
    masters: masters.map(hostArgs),
    workers: workers.map(hostArgs),
    endpoint,
    etcd: externalEtcd(etcd),
  });

  const describe = (hosts: typeof masters) =>
    hosts.map((h) => ({
      name: h.plan.name,
      zone: plan.subnets[h.plan.zoneIndex].zone,
      privateIp: h.plan.address,
      instanceId: h.instance.id,
    }));
  return {
    endpoint: k8s.endpoint,
    kubeconfig: k8s.kubeconfig,
    clusterCaCertPem: k8s.caCertPem,
    nlbDnsName: api.dnsName,
    vpcId: network.vpcId,
    subnetIds: network.subnetIds,
    masters: describe(masters),
    workers: describe(workers),
    etcdHosts: describe(etcdHosts),
    etcdEndpoints: etcd?.clientEndpoints,
    sshPublicKey: sshKey.publicKeyOpenssh,
    sshPrivateKey: pulumi.secret(sshKey.privateKeyOpenssh),
  };
}

function cniPorts(cni: hakube.CniArgs | undefined): CniPorts {
  if (cni === undefined) return "none";
  return cni.kind === hakube.CniKind.Calico ? "calico" : "cilium";
}

/**
 * The VPC: DNS on (the private hosted zone needs it), per zone a private subnet for the instances and,
 * unless `natGateways` is none, a public subnet with a NAT gateway for their way out.
 */
function makeNetwork(
  args: AwsStackArgs,
  subnets: { zone: string; cidr: string }[],
  publicSubnets: { zone: string; cidr: string }[],
  named: (n: string) => Record<string, string>,
) {
  const network = new ec2.Vpc("vpc", {
    cidrBlock: args.vpcCidr ?? AWS_DEFAULTS.vpcCidr,
    enableDnsSupport: true,
    enableDnsHostnames: true,
    tags: named("vpc"),
  });
  const natMode = args.natGateways ?? AWS_DEFAULTS.natGateways;
  const nats: ec2.NatGateway[] = [];
  if (publicSubnets.length > 0) {
    const igw = new ec2.InternetGateway("igw", { vpcId: network.id, tags: named("igw") });
    const publicRt = new ec2.RouteTable("public-rt", { vpcId: network.id, tags: named("public") });
    new ec2.Route("public-default-route", {
      routeTableId: publicRt.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });
    publicSubnets.forEach((s, i) => {
      const subnet = new ec2.Subnet(`public-${s.zone}`, {
        vpcId: network.id,
        availabilityZone: s.zone,
        cidrBlock: s.cidr,
        mapPublicIpOnLaunch: false,
        tags: named(`public-${s.zone}`),
      });
      new ec2.RouteTableAssociation(`public-rta-${s.zone}`, {
        subnetId: subnet.id,
        routeTableId: publicRt.id,
      });
      if (natMode === AwsNatGateways.PerZone || i === 0) {
        const eip = new ec2.Eip(`nat-eip-${s.zone}`, { domain: "vpc", tags: named(`nat-${s.zone}`) });
        nats.push(
          new ec2.NatGateway(
            `nat-${s.zone}`,
            { allocationId: eip.id, subnetId: subnet.id, tags: named(`nat-${s.zone}`) },
            { dependsOn: [igw] },
          ),
        );
      }
    });
  }
  const subnetIds = subnets.map((s, i) => {
    const subnet = new ec2.Subnet(`private-${s.zone}`, {
      vpcId: network.id,
      availabilityZone: s.zone,
      cidrBlock: s.cidr,
      mapPublicIpOnLaunch: false,
      tags: named(`private-${s.zone}`),
    });
    const rt = new ec2.RouteTable(`private-rt-${s.zone}`, {
      vpcId: network.id,
      tags: named(`private-${s.zone}`),
    });
    if (nats.length > 0) {
      new ec2.Route(`private-default-route-${s.zone}`, {
        routeTableId: rt.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nats[Math.min(i, nats.length - 1)].id,
      });
    }
    new ec2.RouteTableAssociation(`private-rta-${s.zone}`, { subnetId: subnet.id, routeTableId: rt.id });
    return subnet.id;
  });
  return { vpcId: network.id, subnetIds };
}
