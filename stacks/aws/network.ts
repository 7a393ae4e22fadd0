/**
 * The AWS stack's network: the VPC it makes (subnets, gateways, routes) and the security groups of its
 * instances, with their rules. See program.ts for where 0.0.0.0/0 appears, and why.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as vpc from "@pulumi/aws/vpc";
import * as hakube from "../../index";
import { DEFAULT_POD_SUBNET } from "../../components/controlplane/defaults";
import { API_SERVER_PORT } from "../../components/contracts";
/** etcd's client and peer ports: EtcdCluster's defaults, and kubeadm's for stacked etcd. */
import { DEFAULT_CLIENT_PORT, DEFAULT_PEER_PORT } from "../../components/etcd/defaults";
import { AWS_DEFAULTS, AwsNatGateways, CNI_NODE_PORTS, CniPorts, PortRule } from "./plan";
import type { AwsStackArgs } from "./types";

/** kubelet's API (kubeadm's "Ports and Protocols"). */
const KUBELET_PORT = 10250;
const SSH_PORT = 22;

/**
 * Security groups: every Kubernetes node is in `nodes`, masters also in `masters`, etcd hosts in `etcd`
 * (external etcd only), each with its rules.
 */
export function makeSecurityGroups(
  args: AwsStackArgs,
  vpcId: pulumi.Input<string>,
  external: boolean,
  named: (n: string) => Record<string, string>,
) {
  const tags = args.tags ?? {};
  const sg = (id: string, description: string) =>
    new ec2.SecurityGroup(`${id}-sg`, { vpcId, description, tags: named(id) });
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
    tcp("api", API_SERVER_PORT, API_SERVER_PORT, "Kubernetes API, from every node"),
    { sg: nodesSg.id },
  );
  if (!external) {
    ingress(
      "masters-etcd",
      mastersSg,
      tcp("etcd", DEFAULT_CLIENT_PORT, DEFAULT_PEER_PORT, "stacked etcd: clients and peers, between masters"),
      { sg: mastersSg.id },
    );
  }
  if (etcdSg) {
    ingress(
      "etcd-client-from-masters",
      etcdSg,
      tcp("client", DEFAULT_CLIENT_PORT, DEFAULT_CLIENT_PORT, "etcd clients: the API servers"),
      { sg: mastersSg.id },
    );
    ingress(
      "etcd-peers",
      etcdSg,
      tcp("peers", DEFAULT_CLIENT_PORT, DEFAULT_PEER_PORT, "etcd: clients and peers, between members"),
      { sg: etcdSg.id },
    );
    sshRules("etcd", etcdSg);
    egressAll("etcd", etcdSg);
  }
  return { nodesSg, mastersSg, etcdSg, cni };
}

function cniPorts(cni: hakube.CniArgs | undefined): CniPorts {
  if (cni === undefined) return "none";
  return cni.kind === hakube.CniKind.Calico ? "calico" : "cilium";
}

/**
 * The VPC: DNS on (the private hosted zone needs it), per zone a private subnet for the instances and,
 * unless `natGateways` is none, a public subnet with a NAT gateway for their way out.
 */
export function makeNetwork(
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
