import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as lb from "@pulumi/aws/lb";
import * as vpc from "@pulumi/aws/vpc";
import { ArgsChecker, argsChecker } from "../errors";
import { checkedConnection, knownHosts } from "../hosts";
import { hostSteps, Rollout } from "../steps";
import { after } from "../outputs";
import { renderHaproxyReadyScript } from "./render/ready";
import { READYZ_PATH } from "../contracts";
import { joinHostPort, ipFamily } from "../net";
import {
  haproxyCaFiles,
  renderFileBundle,
  renderHaproxyConfigureScript,
  renderHaproxyInstallScript,
  renderHaproxyRemoveScript,
} from "./render/scripts";
import { resolveAwsNlb, resolveHaproxy } from "./settings";
import { AwsNlbArgs, HaproxyArgs, KnownHaproxyArgs, LoadBalancerArgs, LoadBalancerKind } from "./types";
import { validateLoadBalancerArgs } from "./validate";

/** What a kind produces for the component's outputs. */
interface KindOutputs {
  address: pulumi.Output<string>;
  /** address:port, before the gate of `ready`. */
  endpoint: pulumi.Output<string>;
  /** Resolves once the load balancer forwards (see `endpoint`). */
  ready: pulumi.Output<unknown>;
  dnsName: pulumi.Output<string | undefined>;
  zoneId: pulumi.Output<string | undefined>;
  securityGroupId: pulumi.Output<string | undefined>;
  targetGroupArn: pulumi.Output<string | undefined>;
}

/**
 * One load balancer in front of the API servers, `kind` haproxy or awsNlb.
 *
 * haproxy, per host in order: `install`, then `configure` (sysctl for a non-local bind address, the
 * backends' CA, haproxy.cfg checked with `haproxy -c` on the host, `systemctl reload`); the configure
 * steps run one host after another, then a `ready` check on every host (HAProxy answers). awsNlb: a
 * security group with its rules, the NLB (cross-zone), a TCP target group with HTTPS /readyz checks, a TCP
 * listener, and one attachment per target.
 */
export class LoadBalancer extends pulumi.ComponentResource {
  /**
   * host:port that clients and kubeadm's controlPlaneEndpoint use (HaControlPlane's `endpoint`). Resolves
   * only once the load balancer forwards: haproxy, after every host's `ready` check (HAProxy active,
   * listening on `port`, its health port answering, `port` accepting connections where the bind address
   * is the host's own); awsNlb, once the NLB, its listener and every target attachment exist (targets
   * turn healthy only when their API servers answer). A resource that takes it as an input waits for
   * that without `dependsOn`.
   */
  public readonly endpoint: pulumi.Output<string>;
  /** The address in `endpoint`: haproxy's bindAddress (or first host), or the NLB's DNS name. Not gated. */
  public readonly address: pulumi.Output<string>;
  /** awsNlb: the NLB's DNS name. */
  public readonly dnsName: pulumi.Output<string | undefined>;
  /** awsNlb: the NLB's canonical hosted zone, for a Route 53 alias record to `dnsName`. */
  public readonly zoneId: pulumi.Output<string | undefined>;
  /** awsNlb: the NLB's security group; allow it on the targets' `backendPort` (or use targetSecurityGroupIds). */
  public readonly securityGroupId: pulumi.Output<string | undefined>;
  /** awsNlb: the target group, to register API servers that are made later. */
  public readonly targetGroupArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:LoadBalancer", name, {}, opts);
    const component = `LoadBalancer ${name}`;
    const check = argsChecker(validateLoadBalancerArgs, component, this);
    check.now(args);

    const out =
      args.kind === LoadBalancerKind.Haproxy
        ? this.haproxy(name, args, args.haproxy as HaproxyArgs, component, check)
        : this.awsNlb(name, args, args.awsNlb as AwsNlbArgs);
    this.address = out.address;
    this.endpoint = after(out.ready, out.endpoint);
    this.dnsName = out.dnsName;
    this.zoneId = out.zoneId;
    this.securityGroupId = out.securityGroupId;
    this.targetGroupArn = out.targetGroupArn;
    this.registerOutputs({
      endpoint: this.endpoint,
      address: this.address,
      dnsName: this.dnsName,
      zoneId: this.zoneId,
      securityGroupId: this.securityGroupId,
      targetGroupArn: this.targetGroupArn,
    });
  }

  private haproxy(
    name: string,
    args: LoadBalancerArgs,
    h: HaproxyArgs,
    component: string,
    check: ArgsChecker<LoadBalancerArgs>,
  ): KindOutputs {
    // The args once every address (hosts, backends, bindAddress) is known, checked again by the same rules.
    const knownHaproxy: pulumi.Output<KnownHaproxyArgs> = pulumi
      .all([knownHosts(h.hosts), pulumi.all(h.backends.map((b) => b.address)), pulumi.output(h.bindAddress)])
      .apply(([hosts, addresses, bindAddress]) => ({
        ...h,
        hosts,
        backends: h.backends.map((b, i) => ({ name: b.name, address: addresses[i] })),
        bindAddress,
      }));
    const known = check.whenKnown(knownHaproxy.apply((haproxy) => ({ ...args, haproxy })));
    const s = known.apply((k) => resolveHaproxy(name, k, k.haproxy as KnownHaproxyArgs));
    const stdin =
      h.caCertPem === undefined
        ? undefined
        : pulumi.output(h.caCertPem).apply((pem) => renderFileBundle(haproxyCaFiles(pem)));
    const hosts = h.hosts.map((host, i) => ({
      name: host.name,
      connection: checkedConnection(host.connection, `haproxy.hosts[${i}].connection`, component, known),
    }));
    const [, configures] = hostSteps(
      name,
      hosts,
      [
        {
          step: "install",
          rollout: Rollout.Parallel,
          args: (i) => ({ create: s.apply((x) => renderHaproxyInstallScript(x, hosts[i].name)) }),
        },
        {
          // HAProxy reloads: a change rolls through the hosts.
          step: "configure",
          rollout: Rollout.Serial,
          args: (i) => ({
            create: s.apply((x) => renderHaproxyConfigureScript(x, hosts[i].name)),
            delete: s.apply((x) => renderHaproxyRemoveScript(x, hosts[i].name)),
            stdin,
          }),
        },
      ],
      { opts: { parent: this } },
    );
    // Every host answers, once every host is configured; again whenever one was reconfigured.
    const [ready] = hostSteps(
      name,
      hosts,
      [
        {
          step: "ready",
          rollout: Rollout.Parallel,
          after: configures,
          args: (i) => ({
            create: s.apply((x) => renderHaproxyReadyScript(x, hosts[i].name)),
            triggers: configures.map((c) => c.stdout),
          }),
        },
      ],
      { opts: { parent: this } },
    );
    const none = pulumi.output<string | undefined>(undefined);
    return {
      address: s.apply((x) => x.address),
      endpoint: s.apply((x) => x.endpoint),
      ready: pulumi.all(ready.map((r) => r.stdout)),
      dnsName: none,
      zoneId: none,
      securityGroupId: none,
      targetGroupArn: none,
    };
  }

  private awsNlb(name: string, args: LoadBalancerArgs, n: AwsNlbArgs): KindOutputs {
    const s = resolveAwsNlb(args, n);
    const opts = { parent: this };
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
}
