import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { LoadBalancer } from "../../components/loadbalancer/loadBalancer";
import * as render from "../../components/loadbalancer/render/scripts";
import {
  AwsNlbScheme,
  AwsNlbTargetType,
  LoadBalancerArgs,
  LoadBalancerKind,
} from "../../components/loadbalancer/types";
import { CMD, isSecretInput, Recorder, resolve, underMocks, unwrap } from "./helpers/mocks";
import { assertRegisteredAfter } from "./helpers/recorded";
import { lbHosts, haproxyArgs, nlbArgs, haproxyLb, nlbLb, haproxySettings } from "./helpers/loadbalancer";

async function deploy(args: LoadBalancerArgs, jitterMs = 0) {
  const { rec, out: lb } = await underMocks(() => new LoadBalancer("lb", args), { jitterMs });
  return { rec, lb };
}
function inputs(rec: Recorder, name: string): Record<string, unknown> {
  return unwrap(rec.get(name).inputs) as Record<string, unknown>;
}
const CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";

describe("LoadBalancer kind haproxy (mocks)", () => {
  it("creates install, configure and ready per host, nothing else", async () => {
    const { rec } = await deploy(haproxyLb());
    assert.deepEqual(rec.names(), [
      "lb-lb1-configure",
      "lb-lb1-install",
      "lb-lb1-ready",
      "lb-lb2-configure",
      "lb-lb2-install",
      "lb-lb2-ready",
    ]);
    assert.equal(rec.byType(CMD).length, 6);
  });

  it("configures after install and one host after another", async () => {
    const { rec } = await deploy(haproxyLb(), 15);
    assertRegisteredAfter(rec, "lb-lb1-configure", "lb-lb1-install");
    assertRegisteredAfter(rec, "lb-lb2-configure", "lb-lb2-install");
    assertRegisteredAfter(rec, "lb-lb2-configure", "lb-lb1-configure");
  });

  it("sends exactly the rendered scripts, and no stdin without a CA", async () => {
    const { rec } = await deploy(haproxyLb());
    const s = haproxySettings();
    for (const host of ["lb1", "lb2"]) {
      const c = inputs(rec, `lb-${host}-configure`);
      assert.equal(c.create, render.renderHaproxyConfigureScript(s, host));
      assert.equal(c.delete, render.renderHaproxyRemoveScript(s, host));
      assert.equal(c.stdin, undefined);
      assert.equal(inputs(rec, `lb-${host}-install`).create, render.renderHaproxyInstallScript(s, host));
    }
  });

  it("resolves the address clients reach once, canonical: the bind address, or the first host's", () => {
    const bound = haproxySettings({ bindAddress: "fd00:0::10" }, { port: 8443 });
    assert.equal(bound.address, "fd00::10");
    assert.equal(bound.endpoint, "[fd00::10]:8443");
    assert.equal(bound.bindAddress, "fd00:0::10", "haproxy.cfg binds to the address as given");
    const first = haproxySettings(
      {
        bindAddress: undefined,
        hosts: lbHosts.map((x, i) => (i === 0 ? { ...x, address: "fd00:0::1" } : x)),
      },
      { port: 8443 },
    );
    assert.equal(first.endpoint, "[fd00::1]:8443");
  });

  it("sends the CA on stdin as a file bundle when given (also as an Output)", async () => {
    const { rec } = await deploy(haproxyLb({ caCertPem: pulumi.output(CA) }));
    const c = inputs(rec, "lb-lb2-configure");
    assert.equal(c.stdin, render.renderFileBundle(render.haproxyCaFiles(CA)));
    assert.match(c.create as string, /verify required ca-file \/etc\/haproxy\/hakube-backend-ca\.crt/);
  });

  it("keeps every connection secret", async () => {
    const { rec } = await deploy(haproxyLb());
    for (const r of rec.byType(CMD)) assert.ok(isSecretInput(r.inputs.connection), r.name);
    assert.equal((inputs(rec, "lb-lb2-install").connection as Record<string, unknown>).host, "10.0.0.22");
  });

  it("exposes the bind address as endpoint, and no AWS outputs", async () => {
    const { lb } = await deploy(haproxyLb({}, { port: 8443 }));
    assert.equal(await resolve(lb.address), "10.0.0.10");
    assert.equal(await resolve(lb.endpoint), "10.0.0.10:8443");
    assert.equal(await resolve(lb.dnsName), undefined);
    assert.equal(await resolve(lb.zoneId), undefined);
    assert.equal(await resolve(lb.securityGroupId), undefined);
    assert.equal(await resolve(lb.targetGroupArn), undefined);
  });

  it("without a bind address, the endpoint is the first host", async () => {
    const { lb } = await deploy(haproxyLb({ bindAddress: undefined, hosts: lbHosts.slice(0, 1) }));
    assert.equal(await resolve(lb.endpoint), "10.0.0.21:6443");
  });
});

describe("LoadBalancer kind awsNlb (mocks)", () => {
  it("creates the security group and rules, NLB, target group, listener and one attachment per target", async () => {
    const { rec } = await deploy(nlbLb());
    assert.deepEqual(rec.names(), [
      "lb-egress-vpc",
      "lb-ingress-vpc",
      "lb-listener",
      "lb-m1-attachment",
      "lb-m2-attachment",
      "lb-m3-attachment",
      "lb-nlb",
      "lb-sg",
      "lb-tg",
      "lb-vpc",
    ]);
    assert.equal(rec.byType(CMD).length, 0);
    assert.equal(rec.get("lb-vpc").type, "aws:ec2/vpc:Vpc");
    assert.equal(rec.get("lb-nlb").type, "aws:lb/loadBalancer:LoadBalancer");
    assert.equal(rec.byType("aws:lb/targetGroupAttachment:TargetGroupAttachment").length, 3);
  });

  it("an internal NLB across the subnets, cross-zone, behind its security group", async () => {
    const { rec } = await deploy(nlbLb());
    assert.deepEqual(inputs(rec, "lb-nlb"), {
      loadBalancerType: "network",
      internal: true,
      subnets: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      securityGroups: ["lb-sg-id"],
      enableCrossZoneLoadBalancing: true,
    });
  });

  it("internet-facing when asked", async () => {
    const { rec } = await deploy(
      nlbLb({ scheme: AwsNlbScheme.InternetFacing, allowedCidrs: ["203.0.113.0/24"] }),
    );
    assert.equal(inputs(rec, "lb-nlb").internal, false);
  });

  it("a TCP target group on 6443 with HTTPS /readyz checks at AWS's fastest, no client IP preservation", async () => {
    const { rec } = await deploy(nlbLb());
    assert.deepEqual(inputs(rec, "lb-tg"), {
      vpcId: "vpc-0123456789abcdef0",
      port: 6443,
      protocol: "TCP",
      targetType: "instance",
      preserveClientIp: "false",
      healthCheck: {
        enabled: true,
        protocol: "HTTPS",
        path: "/readyz",
        port: "traffic-port",
        matcher: "200",
        interval: 5,
        timeout: 3,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
    });
  });

  it("a TCP listener on port forwarding to the target group; targets on backendPort", async () => {
    const { rec } = await deploy(
      nlbLb(
        { targetType: AwsNlbTargetType.Ip, targets: [{ name: "m1", id: "10.0.0.11" }] },
        { port: 443, backendPort: 6443 },
      ),
    );
    const tgArn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lb-tg/0123";
    assert.deepEqual(inputs(rec, "lb-listener"), {
      loadBalancerArn:
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/lb-nlb/0123456789abcdef",
      port: 443,
      protocol: "TCP",
      defaultActions: [{ type: "forward", targetGroupArn: tgArn }],
    });
    assert.deepEqual(inputs(rec, "lb-m1-attachment"), {
      targetGroupArn: tgArn,
      targetId: "10.0.0.11",
      port: 6443,
    });
    assert.equal(inputs(rec, "lb-tg").targetType, "ip");
  });

  it("admits only the VPC by default: no 0.0.0.0/0 anywhere", async () => {
    const { rec } = await deploy(nlbLb());
    assert.deepEqual(inputs(rec, "lb-sg"), {
      vpcId: "vpc-0123456789abcdef0",
      description: "hakube LoadBalancer lb: Kubernetes API on TCP 6443",
    });
    assert.deepEqual(inputs(rec, "lb-ingress-vpc"), {
      securityGroupId: "lb-sg-id",
      ipProtocol: "tcp",
      fromPort: 6443,
      toPort: 6443,
      cidrIpv4: "10.0.0.0/16",
      description: "Kubernetes API clients: the VPC",
    });
    assert.deepEqual(inputs(rec, "lb-egress-vpc"), {
      securityGroupId: "lb-sg-id",
      ipProtocol: "tcp",
      fromPort: 6443,
      toPort: 6443,
      cidrIpv4: "10.0.0.0/16",
      description: "API servers in the VPC: traffic and health checks",
    });
    for (const r of rec.resources) {
      assert.doesNotMatch(JSON.stringify(unwrap(r.inputs)), /0\.0\.0\.0\/0|::\/0/, r.name);
    }
  });

  it("admits the given CIDR blocks instead, IPv4 and IPv6", async () => {
    const { rec } = await deploy(nlbLb({ allowedCidrs: ["10.1.0.0/16", "fd00::/8"] }));
    assert.ok(!rec.names().includes("lb-ingress-vpc"));
    assert.equal(inputs(rec, "lb-ingress-0").cidrIpv4, "10.1.0.0/16");
    assert.equal(inputs(rec, "lb-ingress-1").cidrIpv6, "fd00::/8");
    assert.equal(inputs(rec, "lb-ingress-1").cidrIpv4, undefined);
  });

  it("opens the targets' security groups to the NLB's when asked", async () => {
    const { rec } = await deploy(nlbLb({ targetSecurityGroupIds: ["sg-0123456789abcdef0"] }));
    assert.deepEqual(inputs(rec, "lb-target-sg-0"), {
      securityGroupId: "sg-0123456789abcdef0",
      referencedSecurityGroupId: "lb-sg-id",
      ipProtocol: "tcp",
      fromPort: 6443,
      toPort: 6443,
      description: "hakube LoadBalancer lb: traffic and health checks from the NLB",
    });
  });

  it("tags every taggable resource", async () => {
    const { rec } = await deploy(nlbLb({ tags: { cluster: "prod" } }));
    for (const name of ["lb-sg", "lb-nlb", "lb-tg", "lb-listener", "lb-ingress-vpc", "lb-egress-vpc"]) {
      assert.deepEqual(inputs(rec, name).tags, { cluster: "prod" }, name);
    }
  });

  it("registers no target when none are given", async () => {
    const { rec } = await deploy(nlbLb({ targets: undefined }));
    assert.equal(rec.byType("aws:lb/targetGroupAttachment:TargetGroupAttachment").length, 0);
  });

  it("exposes the DNS name as address and endpoint, its hosted zone, the security group and the target group", async () => {
    const { lb } = await deploy(nlbLb());
    const dns = "lb-nlb-0123456789abcdef.elb.us-east-1.amazonaws.com";
    assert.equal(await resolve(lb.address), dns);
    assert.equal(await resolve(lb.dnsName), dns);
    assert.equal(
      await resolve(lb.zoneId),
      "Z26RNL4JYFTOTI",
      "the NLB's canonical hosted zone, for an alias record",
    );
    assert.equal(await resolve(lb.endpoint), `${dns}:6443`);
    assert.equal(await resolve(lb.securityGroupId), "lb-sg-id");
    assert.equal(
      await resolve(lb.targetGroupArn),
      "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lb-tg/0123",
    );
  });
});

describe("LoadBalancer args", () => {
  it("refuses both blocks before creating anything", async () => {
    const rec = new Recorder();
    await rec.install();
    assert.throws(
      () =>
        new LoadBalancer("lb", { kind: LoadBalancerKind.Haproxy, haproxy: haproxyArgs(), awsNlb: nlbArgs() }),
      (e: Error) =>
        pulumi.InputPropertiesError.isInstance(e) &&
        e.message ===
          'LoadBalancer lb has invalid arguments:\n  - Only one of [haproxy] or [awsNlb] can be specified: kind is "haproxy", so give haproxy and remove awsNlb',
    );
    assert.throws(
      () =>
        new LoadBalancer("lb", {
          kind: LoadBalancerKind.AwsNlb,
          awsNlb: nlbArgs({ subnetIds: ["subnet-0123456789abcdef0"] }),
        }),
      /awsNlb\.subnetIds must list at least two subnets in different Availability Zones, got 1/,
    );
    await rec.idle();
    assert.equal(rec.resources.length, 0);
  });
});
