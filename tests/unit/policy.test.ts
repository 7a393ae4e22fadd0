/**
 * The policy pack (policy/) run as CrossGuard runs it: each policy's validateResource over the resources
 * a program registers, here with the arguments the stacks and components really register under the
 * Recorder mocks (components: their facts, components/facts.ts), in a stack named "prod" unless a test
 * says otherwise. The shipped stacks comply; each policy is shown refusing what it is there to refuse.
 */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import type { ResourceValidationArgs } from "@pulumi/policy";
import * as hakube from "../../index";
import { awsStack, AwsStackArgs } from "../../stacks/aws/program";
import { bareMetalStack, BareMetalStackArgs } from "../../stacks/bare-metal/program";
import {
  controlPlaneHardening,
  encryptedVolumes,
  etcdQuorum,
  HakubePolicy,
  instanceImdsv2,
  nlbAcrossZones,
  noPublicControlPlanePorts,
  policies,
  PRODUCTION_TAG,
  vipHealthCheck,
} from "../../policy/policies";
import { hosts } from "./helpers/hosts";
import { INGRESS, INSTANCE, isSecretInput, underMocks, unwrap } from "./helpers/mocks";
import { hasOpenssl, opensslCa } from "./helpers/sh";

/** One registered resource as a policy sees it: type, name, properties. */
interface Registered {
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** The properties as the mocks got them (secrets wrapped). */
  raw?: Record<string, unknown>;
}

interface Stack {
  stack?: string;
  tags?: Record<string, string>;
  config?: Record<string, unknown>;
}

let caPem: string;

/** Run a program under the mocks; every component and resource it registered, with its properties. */
async function registered(program: () => void): Promise<Registered[]> {
  const { rec } = await underMocks(program, { certPem: caPem });
  return [...rec.components, ...rec.resources].map((r) => ({
    type: r.type,
    name: r.name,
    props: unwrap(r.inputs) as Record<string, unknown>,
    raw: r.inputs,
  }));
}

/** A policy's violations over resources, "<name>: <message>", as CrossGuard would report them. */
function violations(policy: HakubePolicy, resources: Registered[], s: Stack = {}): string[] {
  const out: string[] = [];
  const validations = [policy.validateResource ?? []].flat();
  for (const r of resources) {
    const args = {
      type: r.type,
      props: r.props,
      name: r.name,
      urn: `urn:pulumi:${s.stack ?? "prod"}::hakube::${r.type}::${r.name}`,
      stackTags: new Map(Object.entries(s.tags ?? {})),
      getConfig: () => s.config ?? {},
      notApplicable: (reason?: string) => {
        throw new Error(`notApplicable ${reason}`);
      },
    } as unknown as ResourceValidationArgs;
    for (const v of validations) void v(args, (message: string) => out.push(`${r.name}: ${message}`));
  }
  return out;
}

/** Every policy's violations, by policy name; policies without any left out. */
function allViolations(resources: Registered[], s: Stack = {}): Record<string, string[]> {
  return Object.fromEntries(
    policies.map((p) => [p.name, violations(p, resources, s)]).filter(([, v]) => v.length > 0),
  );
}

const byType = (rs: Registered[], type: string) => rs.filter((r) => r.type === type);

const awsArgs = (over: Partial<AwsStackArgs> = {}): AwsStackArgs => ({
  name: "test",
  ami: "ami-0123456789abcdef0",
  sshCidrs: ["192.0.2.0/24"],
  kubernetes: { kubernetesVersion: "1.31.4", cni: { kind: hakube.CniKind.Cilium, version: "1.16.5" } },
  ...over,
});

const bareMetalArgs = (over: Partial<BareMetalStackArgs> = {}): BareMetalStackArgs => ({
  masters: [1, 2, 3].map((i) => ({
    name: `m${i}`,
    address: `10.0.0.${10 + i}`,
    hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIm${i}`,
  })),
  privateKey:
    "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-PRIVATE-KEY policy\n-----END OPENSSH PRIVATE KEY-----\n",
  vip: { address: "10.0.0.10/24", interface: "eth0" },
  kubernetes: { kubernetesVersion: "1.31.4", cni: { kind: hakube.CniKind.Cilium, version: "1.16.5" } },
  ...over,
});

const EXTERNAL_ETCD = {
  topology: hakube.EtcdTopology.External,
  install: { method: hakube.InstallMethod.Release, sha256: "b".repeat(64) },
};

describe("policy pack (policy/)", function () {
  this.timeout(60000);

  before(function () {
    if (!hasOpenssl()) this.skip();
    caPem = opensslCa("policy-ca").certPem;
  });

  it("every policy says why and how to fix it, with an enforcement level and a unique name", () => {
    assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
    for (const p of policies) {
      assert.match(p.name, /^hakube-[a-z0-9-]+$/);
      assert.ok(p.description.length > 80, `${p.name}: why`);
      assert.ok(p.remediationSteps.length > 40, `${p.name}: how to fix`);
      assert.ok(["advisory", "mandatory"].includes(p.enforcementLevel), p.name);
    }
  });

  describe("the shipped stacks comply, in a production stack", () => {
    it("aws, stacked etcd: instances, security groups and the NLB", async () => {
      const rs = await registered(() => awsStack(awsArgs()));
      assert.deepEqual(allViolations(rs), {});
      assert.equal(byType(rs, INSTANCE).length, 6, "3 masters and 3 workers checked");
      assert.ok(byType(rs, INGRESS).length >= 5);
      assert.equal(byType(rs, "aws:lb/loadBalancer:LoadBalancer").length, 1);
      assert.deepEqual(byType(rs, "hakube:index:HaControlPlane")[0].props, {
        masterCount: 3,
        etcdTopology: "stacked",
        secretsEncryption: true,
        auditLog: true,
      });
    });

    it("aws, external etcd: the EtcdCluster's member count", async () => {
      const rs = await registered(() => awsStack(awsArgs({ etcd: EXTERNAL_ETCD })));
      assert.deepEqual(allViolations(rs), {});
      assert.deepEqual(byType(rs, "hakube:index:EtcdCluster")[0].props, { memberCount: 3 });
      assert.equal(byType(rs, "hakube:index:HaControlPlane")[0].props.etcdTopology, "external");
    });

    it("bare metal: the VIP's health check and HaControlPlane's flags", async () => {
      const rs = await registered(() => bareMetalStack(bareMetalArgs()));
      assert.deepEqual(allViolations(rs), {});
      assert.deepEqual(byType(rs, "hakube:index:KeepalivedVip")[0].props, { healthCheckKind: "haproxy" });
      assert.equal(byType(rs, "hakube:index:HaControlPlane").length, 1);
    });
  });

  it("components register their facts only: counts, flags and kinds, never a secret", async () => {
    const rs = [
      ...(await registered(() => awsStack(awsArgs({ etcd: EXTERNAL_ETCD })))),
      ...(await registered(() => bareMetalStack(bareMetalArgs()))),
    ];
    for (const c of rs.filter((r) => r.type.startsWith("hakube:"))) {
      for (const [k, v] of Object.entries(c.raw ?? {})) {
        assert.ok(!isSecretInput(v), `${c.type} ${c.name}.${k} is a secret`);
        assert.ok(
          ["number", "boolean"].includes(typeof v) || /^[a-zA-Z]{1,20}$/.test(String(v)),
          `${c.name}.${k}`,
        );
      }
    }
    const keys = (type: string) => [...new Set(byType(rs, type).flatMap((r) => Object.keys(r.props)))].sort();
    assert.deepEqual(keys("hakube:index:EtcdCluster"), ["memberCount"]);
    assert.deepEqual(keys("hakube:index:KeepalivedVip"), ["healthCheckKind"]);
    assert.deepEqual(keys("hakube:index:HaControlPlane"), [
      "auditLog",
      "etcdTopology",
      "masterCount",
      "secretsEncryption",
    ]);
    assert.deepEqual(keys("hakube:index:LoadBalancer"), []);
    assert.deepEqual(keys("hakube:index:CertificateAuthority"), []);
  });

  describe(etcdQuorum.name, () => {
    const etcd = (n: number) =>
      registered(
        () => new hakube.EtcdCluster("etcd", { members: hosts(n), install: { sha256: "c".repeat(64) } }),
      );

    it("refuses 2 and 4 EtcdCluster members in production, accepts 3 and 5", async () => {
      assert.deepEqual(violations(etcdQuorum, await etcd(2)), [
        "etcd: EtcdCluster has 2 etcd member(s): it stops at the first failure (quorum 2 of 2). Use 3, 5 or 7 members.",
      ]);
      assert.deepEqual(violations(etcdQuorum, await etcd(4)), [
        "etcd: EtcdCluster has 4 etcd members: an even count tolerates 1 failure(s), no more than 3 members would. Use 3 or 5.",
      ]);
      assert.deepEqual(violations(etcdQuorum, await etcd(3)), []);
      assert.deepEqual(violations(etcdQuorum, await etcd(5)), []);
    });

    it("counts HaControlPlane's masters with stacked etcd, not with external etcd", async () => {
      const four = bareMetalArgs().masters.concat({
        name: "m4",
        address: "10.0.0.14",
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIm4",
      });
      const stacked = await registered(() => bareMetalStack(bareMetalArgs({ masters: four })));
      assert.equal(violations(etcdQuorum, stacked).length, 1);
      assert.match(
        violations(etcdQuorum, stacked)[0],
        /^k8s: HaControlPlane with stacked etcd has 4 etcd members/,
      );
      const external = await registered(() =>
        bareMetalStack(bareMetalArgs({ masters: four, etcd: EXTERNAL_ETCD, etcdHosts: hostsOf("e", 3) })),
      );
      assert.deepEqual(violations(etcdQuorum, external), []);
    });

    it("applies to production only: the stack name, the hakube:production tag over it, or productionStacks", async () => {
      const two = await etcd(2);
      for (const stack of ["prod", "production", "prod-eu", "eu-prod", "PROD"])
        assert.equal(violations(etcdQuorum, two, { stack }).length, 1, stack);
      for (const stack of ["dev", "staging", "product-demo", "reproduce"])
        assert.deepEqual(violations(etcdQuorum, two, { stack }), [], stack);
      assert.equal(
        violations(etcdQuorum, two, { stack: "dev", tags: { [PRODUCTION_TAG]: "true" } }).length,
        1,
      );
      assert.deepEqual(
        violations(etcdQuorum, two, { stack: "prod", tags: { [PRODUCTION_TAG]: "false" } }),
        [],
      );
      assert.equal(
        violations(etcdQuorum, two, { stack: "live", config: { productionStacks: "^live$" } }).length,
        1,
      );
      assert.deepEqual(
        violations(etcdQuorum, two, { stack: "prod", config: { productionStacks: "^live$" } }),
        [],
      );
    });
  });

  describe(noPublicControlPlanePorts.name, () => {
    it("refuses SSH from anywhere in the AWS stack", async () => {
      const rs = await registered(() =>
        awsStack(awsArgs({ sshCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true })),
      );
      const v = violations(noPublicControlPlanePorts, rs);
      assert.ok(v.length > 0);
      for (const m of v) assert.match(m, /: ingress tcp 22 from anywhere opens SSH \(22\) to the Internet/);
    });

    it("refuses the API open to the Internet in the AWS stack", async () => {
      const rs = await registered(() => awsStack(awsArgs({ apiAllowedCidrs: ["0.0.0.0/0"] })));
      const v = violations(noPublicControlPlanePorts, rs);
      assert.ok(v.length > 0);
      for (const m of v) assert.match(m, /opens kube-apiserver \(6443\) to the Internet/);
    });

    it("refuses etcd in a hand-written security group, all traffic, IPv6; accepts other ports and protocols", async () => {
      const rs = await registered(() => {
        new aws.ec2.SecurityGroup("etcd-open", {
          ingress: [{ protocol: "tcp", fromPort: 2379, toPort: 2380, cidrBlocks: ["0.0.0.0/0"] }],
        });
        new aws.ec2.SecurityGroup("all-open", {
          ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }],
        });
        new aws.ec2.SecurityGroup("fine", {
          ingress: [
            { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
            { protocol: "udp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] },
            { protocol: "tcp", fromPort: 22, toPort: 6443, cidrBlocks: ["10.0.0.0/8"] },
          ],
        });
      });
      const v = violations(noPublicControlPlanePorts, rs);
      assert.deepEqual(
        v.map((m) => m.replace(/ to the Internet.*/, "")),
        [
          "etcd-open: ingress tcp 2379-2380 from anywhere opens etcd client (2379)",
          "etcd-open: ingress tcp 2379-2380 from anywhere opens etcd peer (2380)",
          "all-open: ingress all traffic from anywhere opens SSH (22)",
          "all-open: ingress all traffic from anywhere opens etcd client (2379)",
          "all-open: ingress all traffic from anywhere opens etcd peer (2380)",
          "all-open: ingress all traffic from anywhere opens kube-apiserver (6443)",
        ],
      );
      const rule = {
        type: "aws:ec2/securityGroupRule:SecurityGroupRule",
        name: "rule",
        props: { type: "ingress", protocol: "6", fromPort: 6443, toPort: 6443, cidrBlocks: ["0.0.0.0/0"] },
      };
      assert.equal(violations(noPublicControlPlanePorts, [rule]).length, 1);
      assert.deepEqual(
        violations(noPublicControlPlanePorts, [{ ...rule, props: { ...rule.props, type: "egress" } }]),
        [],
      );
    });
  });

  describe(nlbAcrossZones.name, () => {
    it("refuses an NLB in one subnet without cross-zone load balancing; leaves ALBs alone", async () => {
      const rs = await registered(() => {
        new aws.lb.LoadBalancer("one-zone", {
          loadBalancerType: "network",
          internal: true,
          subnets: ["subnet-a"],
        });
        new aws.lb.LoadBalancer("alb", { loadBalancerType: "application", subnets: ["subnet-a"] });
      });
      assert.deepEqual(
        violations(nlbAcrossZones, rs).map((m) => m.split(": ").slice(0, 2).join(": ")),
        ["one-zone: the NLB is in 1 subnet(s)", "one-zone: the NLB has no cross-zone load balancing"],
      );
    });
  });

  describe(instanceImdsv2.name + ", " + encryptedVolumes.name, () => {
    it("refuses a hand-written instance without IMDSv2 and encrypted volumes", async () => {
      const rs = await registered(() => {
        new aws.ec2.Instance("plain", {
          ami: "ami-0123456789abcdef0",
          instanceType: "t3.micro",
          ebsBlockDevices: [{ deviceName: "/dev/sdf", volumeSize: 10, encrypted: true }],
        });
        new aws.ec2.Instance("v1", {
          ami: "ami-0123456789abcdef0",
          instanceType: "t3.micro",
          metadataOptions: { httpTokens: "optional" },
          rootBlockDevice: { encrypted: false },
          ebsBlockDevices: [{ deviceName: "/dev/sdf", volumeSize: 10 }],
        });
      });
      assert.deepEqual(violations(instanceImdsv2, rs), [
        'plain: metadataOptions.httpTokens is not set (IMDSv1 allowed): require IMDSv2 with httpTokens: "required"',
        'v1: metadataOptions.httpTokens is "optional": require IMDSv2 with httpTokens: "required"',
      ]);
      assert.deepEqual(violations(encryptedVolumes, rs), [
        "plain: rootBlockDevice is not encrypted: set encrypted: true",
        "v1: rootBlockDevice is not encrypted: set encrypted: true",
        "v1: ebsBlockDevices[0] is not encrypted: set encrypted: true",
      ]);
    });

    it("checks launch templates and EBS volumes", () => {
      const template = {
        type: "aws:ec2/launchTemplate:LaunchTemplate",
        name: "lt",
        props: {
          blockDeviceMappings: [
            { deviceName: "/dev/xvda", ebs: { volumeSize: 50 } },
            { deviceName: "/dev/sdb" },
          ],
        },
      };
      const volume = { type: "aws:ebs/volume:Volume", name: "vol", props: { size: 10 } };
      assert.deepEqual(violations(encryptedVolumes, [template, volume]), [
        "lt: blockDeviceMappings[0].ebs is not encrypted: set encrypted: true",
        "vol: the volume is not encrypted: set encrypted: true",
      ]);
      assert.equal(violations(instanceImdsv2, [template]).length, 1);
      const fixed = {
        ...template,
        props: {
          metadataOptions: { httpTokens: "required" },
          blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: true } }],
        },
      };
      assert.deepEqual(
        [...violations(instanceImdsv2, [fixed]), ...violations(encryptedVolumes, [fixed])],
        [],
      );
    });
  });

  describe(controlPlaneHardening.name, () => {
    it("refuses a HaControlPlane with Secret encryption or audit logging turned off", async () => {
      const cp = (apiServer: hakube.ApiServerArgs) =>
        registered(
          () =>
            new hakube.HaControlPlane("k8s", {
              masters: hosts(3),
              endpoint: "10.0.0.10:6443",
              kubernetesVersion: "1.31.4",
              apiServer,
            }),
        );
      assert.deepEqual(
        violations(controlPlaneHardening, await cp({ secretsEncryption: { enabled: false } })),
        ["k8s: Secrets are not encrypted at rest (apiServer.secretsEncryption.enabled: false): turn it on"],
      );
      assert.deepEqual(violations(controlPlaneHardening, await cp({ audit: { enabled: false } })), [
        "k8s: the API servers write no audit log (apiServer.audit.enabled: false): turn it on",
      ]);
      assert.deepEqual(
        violations(controlPlaneHardening, await cp({ audit: { enabled: true }, secretsEncryption: {} })),
        [],
      );
    });
  });

  describe(vipHealthCheck.name, () => {
    it("refuses a KeepalivedVip without a health check, accepts the default", async () => {
      const vip = (healthCheck?: hakube.VipHealthCheckArgs) =>
        registered(
          () =>
            new hakube.KeepalivedVip("vip", {
              address: "10.0.0.10/24",
              interface: "eth0",
              members: hosts(3),
              virtualRouterId: 51,
              healthCheck,
            }),
        );
      assert.deepEqual(violations(vipHealthCheck, await vip({ kind: hakube.VipHealthCheckKind.None })), [
        "vip: the VIP has no health check (healthCheck.kind: none): a holder whose API server is down keeps it",
      ]);
      assert.deepEqual(violations(vipHealthCheck, await vip()), []);
    });
  });
});

function hostsOf(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${i + 1}`,
    address: `10.0.2.${11 + i}`,
    hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${prefix}${i + 1}`,
  }));
}
