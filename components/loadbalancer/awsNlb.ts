/**
 * LoadBalancer kind awsNlb: the only module of hakube that loads @pulumi/aws, and only when a LoadBalancer
 * of that kind is made (kinds.ts loadAwsNlb), so a bare-metal program neither installs nor loads it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as lb from "@pulumi/aws/lb";
import * as vpc from "@pulumi/aws/vpc";
import { READYZ_PATH } from "../contracts";
import { joinHostPort, ipFamily } from "../net";
import type { KindOutputs } from "./kinds";
import { resolveAwsNlb } from "./settings";
import type { AwsNlbArgs, LoadBalancerArgs } from "./types";

/**
 * A security group with its rules, the NLB (cross-zone), a TCP target group with HTTPS /readyz checks, a
 * TCP listener, and one attachment per target.
 */
export function awsNlbResources(
  name: string,
  args: LoadBalancerArgs,
  n: AwsNlbArgs,
  parent: pulumi.Resource,
): KindOutputs {
  const s = resolveAwsNlb(args, n);
  const opts = { parent };
  const tags = n.tags;
  // Read, not managed: its primary CIDR block is the default client network and where targets are.
  const network = ec2.Vpc.get(`${name}-vpc`, n.vpcId, undefined, opts);
  const sg = new ec2.SecurityGroup(
    `${name}-sg`,
    {
      vpcId: n.vpcId,
      description: `hakube LoadBalancer ${name}: Kubernetes API on TCP ${s.port}`,
      tags,
    },
    opts,
  );
  const ingress = (id: string, cidr: pulumi.Input<string>, family: 4 | 6, description: string) =>
    new vpc.SecurityGroupIngressRule(
      `${name}-${id}`,
      {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: s.port,
        toPort: s.port,
        ...(family === 4 ? { cidrIpv4: cidr } : { cidrIpv6: cidr }),
        description,
        tags,
      },
      opts,
    );
  if (n.allowedCidrs === undefined) {
    ingress("ingress-vpc", network.cidrBlock, 4, "Kubernetes API clients: the VPC");
  } else {
    n.allowedCidrs.forEach((cidr, i) =>
      ingress(`ingress-${i}`, cidr, ipFamily(cidr.split("/")[0]) ?? 4, `Kubernetes API clients: ${cidr}`),
    );
  }
  new vpc.SecurityGroupEgressRule(
    `${name}-egress-vpc`,
    {
      securityGroupId: sg.id,
      ipProtocol: "tcp",
      fromPort: s.backendPort,
      toPort: s.backendPort,
      cidrIpv4: network.cidrBlock,
      description: "API servers in the VPC: traffic and health checks",
      tags,
    },
    opts,
  );
  (n.targetSecurityGroupIds ?? []).forEach((targetSg, i) => {
    new vpc.SecurityGroupIngressRule(
      `${name}-target-sg-${i}`,
      {
        securityGroupId: targetSg,
        referencedSecurityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: s.backendPort,
        toPort: s.backendPort,
        description: `hakube LoadBalancer ${name}: traffic and health checks from the NLB`,
        tags,
      },
      opts,
    );
  });
  const nlb = new lb.LoadBalancer(
    `${name}-nlb`,
    {
      loadBalancerType: "network",
      internal: s.internal,
      subnets: n.subnetIds,
      securityGroups: [sg.id],
      enableCrossZoneLoadBalancing: true,
      tags,
    },
    opts,
  );
  const tg = new lb.TargetGroup(
    `${name}-tg`,
    {
      vpcId: n.vpcId,
      port: s.backendPort,
      protocol: "TCP",
      targetType: s.targetType,
      // Off, so that an API server host that reaches the API through the NLB (kubelet, controllers on
      // a master) is not routed to itself with its own source address, which NLB cannot do.
      preserveClientIp: "false",
      healthCheck: {
        enabled: true,
        protocol: "HTTPS",
        path: READYZ_PATH,
        port: "traffic-port",
        matcher: "200",
        interval: s.healthCheckIntervalSeconds,
        timeout: s.healthCheckTimeoutSeconds,
        healthyThreshold: s.healthyThreshold,
        unhealthyThreshold: s.unhealthyThreshold,
      },
      tags,
    },
    opts,
  );
  const listener = new lb.Listener(
    `${name}-listener`,
    {
      loadBalancerArn: nlb.arn,
      port: s.port,
      protocol: "TCP",
      defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
      tags,
    },
    opts,
  );
  const attachments = (n.targets ?? []).map(
    (t) =>
      new lb.TargetGroupAttachment(
        `${name}-${t.name}-attachment`,
        { targetGroupArn: tg.arn, targetId: t.id, port: s.backendPort },
        opts,
      ),
  );
  return {
    address: nlb.dnsName,
    endpoint: nlb.dnsName.apply((d) => joinHostPort(d, s.port)),
    ready: pulumi.all([listener.arn, ...attachments.map((a) => a.id)]),
    dnsName: nlb.dnsName.apply((d): string | undefined => d),
    zoneId: nlb.zoneId.apply((z): string | undefined => z),
    securityGroupId: sg.id.apply((id): string | undefined => id),
    targetGroupArn: tg.arn.apply((a): string | undefined => a),
  };
}
