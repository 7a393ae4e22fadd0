/**
 * The AWS stack's resource graph with the Recorder mocks: the VPC and its subnets, the security group
 * rules (the full list per group), the key pair, the instances, the NLB and its name, stacked or
 * external etcd, and what HaControlPlane is given. No AWS account is reachable here: these tests prove
 * the graph and every input, not that AWS accepts them (a `pulumi preview` against an account, as the
 * preview workflow runs, is the next check; `pulumi up` the one after).
 *
 * HaControlPlane computes the discovery hash from the cluster CA's certificate, so every self-signed
 * certificate here is one real CA made with openssl.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as hakube from "../../index";
import { awsStack, AwsStackArgs, ROOT_LOGIN_USER_DATA } from "../../stacks/aws/program";
import { AwsNatGateways } from "../../stacks/aws/plan";
import {
  CMD,
  INGRESS,
  INSTANCE,
  isSecretInput,
  KEY,
  Recorder,
  resolve,
  SELF,
  underMocks,
  unwrap,
} from "./helpers/mocks";
import { assertRegisteredAfter, bundle, inputs, plainOccurrences } from "./helpers/recorded";
import { hasOpenssl, opensslCa } from "./helpers/sh";

const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SUBNET = "aws:ec2/subnet:Subnet";
const BUCKET = "aws:s3/bucket:Bucket";
const BUCKET_ARN = "arn:aws:s3:::etcd-backups-0a1b2c3";
const ETCD_SHA256 = "b".repeat(64);
const ADMIN = "192.0.2.0/24";

let caPem: string;

function baseArgs(over: Partial<AwsStackArgs> = {}): AwsStackArgs {
  return {
    name: "test",
    ami: "ami-0123456789abcdef0",
    sshCidrs: [ADMIN],
    kubernetes: { kubernetesVersion: "1.31.4", cni: { kind: hakube.CniKind.Cilium, version: "1.16.5" } },
    ...over,
  };
}

const externalEtcd = {
  topology: hakube.EtcdTopology.External,
  install: { method: hakube.InstallMethod.Release, sha256: ETCD_SHA256 },
};

const deploy = (over: Partial<AwsStackArgs> = {}, jitterMs = 0) =>
  underMocks(() => awsStack(baseArgs(over)), { certPem: caPem, jitterMs });

/** "<resource name>-id" (the mocks' ids) back to the resource name. */
const nameOf = (id: unknown) => String(id).replace(/-id$/, "");

/** Every rule of a type, per security group: "<protocol>/<ports> <source or destination>", sorted. */
function rulesBySg(rec: Recorder, type: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of rec.byType(type)) {
    const i = inputs(r);
    const ports =
      i.ipProtocol === "-1" ? "all" : i.fromPort === i.toPort ? `${i.fromPort}` : `${i.fromPort}-${i.toPort}`;
    const peer = i.referencedSecurityGroupId
      ? nameOf(i.referencedSecurityGroupId)
      : (i.cidrIpv4 ?? i.cidrIpv6);
    (out[nameOf(i.securityGroupId)] ??= []).push(`${i.ipProtocol}/${ports} ${peer}`);
  }
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}

/** A rule list in the order rulesBySg gives (sorted), written in the order a reader thinks of it. */
const rules = (...list: string[]) => [...list].sort();

/** The resources where 0.0.0.0/0 may appear, as documented in stacks/aws/program.ts. */
const OPEN_BY_DESIGN = [
  /^nodes-egress-all$/,
  /^etcd-egress-all$/,
  /^public-default-route$/,
  /^private-default-route-/,
];

describe("aws stack (mocks)", () => {
  before(function () {
    if (!hasOpenssl()) this.skip();
    caPem = opensslCa("aws-ca").certPem;
  });

  it("makes a VPC across three zones: private subnets for the instances, public ones for a NAT gateway each", async () => {
    const { rec } = await deploy();
    assert.deepEqual(inputs(rec.get("vpc")), {
      cidrBlock: "10.0.0.0/16",
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: "test-vpc" },
    });
    const subnets = rec.byType(SUBNET).map((r) => [r.name, inputs(r).availabilityZone, inputs(r).cidrBlock]);
    assert.deepEqual(subnets.sort(), [
      ["private-us-east-1a", "us-east-1a", "10.0.0.0/19"],
      ["private-us-east-1b", "us-east-1b", "10.0.32.0/19"],
      ["private-us-east-1c", "us-east-1c", "10.0.64.0/19"],
      ["public-us-east-1a", "us-east-1a", "10.0.224.0/22"],
      ["public-us-east-1b", "us-east-1b", "10.0.228.0/22"],
      ["public-us-east-1c", "us-east-1c", "10.0.232.0/22"],
    ]);
    for (const r of rec.byType(SUBNET)) assert.equal(inputs(r).mapPublicIpOnLaunch, false, r.name);
    assert.deepEqual(rec.names("aws:ec2/natGateway:NatGateway"), [
      "nat-us-east-1a",
      "nat-us-east-1b",
      "nat-us-east-1c",
    ]);
    for (const z of ["a", "b", "c"]) {
      assert.deepEqual(inputs(rec.get(`private-default-route-us-east-1${z}`)), {
        routeTableId: `private-rt-us-east-1${z}-id`,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: `nat-us-east-1${z}-id`,
      });
      assert.equal(inputs(rec.get(`nat-us-east-1${z}`)).subnetId, `public-us-east-1${z}-id`);
      assert.equal(inputs(rec.get(`private-rta-us-east-1${z}`)).subnetId, `private-us-east-1${z}-id`);
    }
    assert.deepEqual(inputs(rec.get("public-default-route")), {
      routeTableId: "public-rt-id",
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: "igw-id",
    });
  });

  it("single NAT gateway, or none (no public subnets, no internet gateway, no default route)", async () => {
    const single = await deploy({ natGateways: AwsNatGateways.Single });
    assert.deepEqual(single.rec.names("aws:ec2/natGateway:NatGateway"), ["nat-us-east-1a"]);
    for (const z of ["a", "b", "c"]) {
      assert.equal(
        inputs(single.rec.get(`private-default-route-us-east-1${z}`)).natGatewayId,
        "nat-us-east-1a-id",
      );
    }
    const none = await deploy({ natGateways: AwsNatGateways.None });
    assert.deepEqual(none.rec.names("aws:ec2/natGateway:NatGateway"), []);
    assert.deepEqual(none.rec.names("aws:ec2/internetGateway:InternetGateway"), []);
    assert.deepEqual(none.rec.names("aws:ec2/route:Route"), []);
    assert.equal(none.rec.byType(SUBNET).length, 3);
  });

  it("puts an internal NLB across the private subnets of >= 2 different zones, HTTPS /readyz checks, masters as targets", async () => {
    const { rec, out } = await deploy();
    const nlb = inputs(rec.get("api-nlb"));
    assert.equal(nlb.internal, true);
    assert.equal(nlb.loadBalancerType, "network");
    const zoneOf = new Map(rec.byType(SUBNET).map((r) => [`${r.name}-id`, inputs(r).availabilityZone]));
    const zones = (nlb.subnets as string[]).map((id) => zoneOf.get(id));
    assert.ok(zones.length >= 2, "at least two subnets");
    assert.equal(new Set(zones).size, zones.length, `different zones: ${zones}`);
    assert.ok(
      (nlb.subnets as string[]).every((id) => id.startsWith("private-")),
      "private subnets only",
    );
    const hc = inputs(rec.get("api-tg")).healthCheck as Record<string, unknown>;
    assert.deepEqual(
      { protocol: hc.protocol, path: hc.path, port: hc.port, matcher: hc.matcher },
      { protocol: "HTTPS", path: "/readyz", port: "traffic-port", matcher: "200" },
    );
    assert.deepEqual(
      rec
        .byType("aws:lb/targetGroupAttachment:TargetGroupAttachment")
        .map((r) => inputs(r).targetId)
        .sort(),
      ["m1-id", "m2-id", "m3-id"],
    );
    assert.equal(await resolve(out.nlbDnsName), "api-nlb-0123456789abcdef.elb.us-east-1.amazonaws.com");
  });

  it("opens exactly these ingress rules per security group (Cilium, stacked etcd)", async () => {
    const { rec } = await deploy();
    assert.deepEqual(rec.names("aws:ec2/securityGroup:SecurityGroup"), ["api-sg", "masters-sg", "nodes-sg"]);
    assert.deepEqual(rulesBySg(rec, INGRESS), {
      "nodes-sg": rules(
        `tcp/22 ${ADMIN}`,
        "tcp/10250 masters-sg",
        "udp/8472 nodes-sg",
        "tcp/4240 nodes-sg",
        "tcp/4244 nodes-sg",
        "icmp/8-0 nodes-sg",
      ),
      "masters-sg": rules("tcp/6443 api-sg", "tcp/6443 nodes-sg", "tcp/2379-2380 masters-sg"),
      "api-sg": rules("tcp/6443 10.0.0.0/16"),
    });
    assert.deepEqual(rulesBySg(rec, EGRESS), {
      "nodes-sg": ["-1/all 0.0.0.0/0"],
      "api-sg": ["tcp/6443 10.0.0.0/16"],
    });
    // Masters are in both groups, workers in nodes only.
    assert.deepEqual(inputs(rec.get("m2")).vpcSecurityGroupIds, ["nodes-sg-id", "masters-sg-id"]);
    assert.deepEqual(inputs(rec.get("w2")).vpcSecurityGroupIds, ["nodes-sg-id"]);
  });

  it("Calico: its ports, the pod network routed natively within a subnet, no source/destination check", async () => {
    const { rec } = await deploy({
      kubernetes: { kubernetesVersion: "1.31.4", cni: { kind: hakube.CniKind.Calico, version: "v3.29.1" } },
    });
    assert.deepEqual(
      rulesBySg(rec, INGRESS)["nodes-sg"],
      rules(
        `tcp/22 ${ADMIN}`,
        "tcp/10250 masters-sg",
        "udp/4789 nodes-sg",
        "tcp/5473 nodes-sg",
        "tcp/179 nodes-sg",
        "-1/all 10.244.0.0/16",
      ),
    );
    for (const r of rec.byType(INSTANCE)) assert.equal(inputs(r).sourceDestCheck, false, r.name);
  });

  it("no pod network: no CNI rules", async () => {
    const { rec } = await deploy({ kubernetes: { kubernetesVersion: "1.31.4" } });
    assert.deepEqual(rulesBySg(rec, INGRESS)["nodes-sg"], rules(`tcp/22 ${ADMIN}`, "tcp/10250 masters-sg"));
    assert.deepEqual(rec.names("kubernetes:helm.sh/v3:Release"), []);
  });

  it("SSH from a bastion's security group and admin networks; never 0.0.0.0/0 except where documented", async () => {
    const { rec } = await deploy({
      sshCidrs: [ADMIN, "2001:db8::/32"],
      bastionSecurityGroupId: "sg-0123456789abcdef0",
      etcd: externalEtcd,
    });
    const ingress = rulesBySg(rec, INGRESS);
    for (const sg of ["nodes-sg", "etcd-sg"]) {
      const ssh = ingress[sg].filter((r) => r.startsWith("tcp/22 "));
      assert.deepEqual(
        ssh,
        rules(`tcp/22 ${ADMIN}`, "tcp/22 2001:db8::/32", "tcp/22 sg-0123456789abcdef0"),
        sg,
      );
    }
    assert.equal(inputs(rec.get("nodes-ssh-1")).cidrIpv6, "2001:db8::/32");
    for (const r of rec.resources) {
      const text = JSON.stringify(unwrap(r.inputs));
      if (/0\.0\.0\.0\/0|"::\/0"/.test(text)) {
        assert.ok(
          OPEN_BY_DESIGN.some((re) => re.test(r.name)),
          `${r.name} mentions 0.0.0.0/0: ${text.slice(0, 200)}`,
        );
      }
    }
    // Every documented place exists (nothing else was checked above by accident).
    for (const name of ["nodes-egress-all", "etcd-egress-all", "public-default-route"]) rec.get(name);
  });

  it("opens SSH to 0.0.0.0/0 only when allowSshFromAnywhere says so", async () => {
    const rec = new Recorder();
    await rec.install();
    assert.throws(
      () => awsStack(baseArgs({ sshCidrs: ["0.0.0.0/0"] })),
      /hakube:awsSshCidrs opens SSH to the whole internet \(0\.0\.0\.0\/0\): name your admin network or bastion instead, or set hakube:awsAllowSshFromAnywhere to true/,
    );
    await rec.idle();
    assert.equal(rec.resources.length, 0);
    const { rec: open } = await deploy({ sshCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true });
    assert.equal(inputs(open.get("nodes-ssh-0")).cidrIpv4, "0.0.0.0/0");
  });

  it("makes an ED25519 key with @pulumi/tls and registers it as the instances' key pair", async () => {
    const { rec, out } = await deploy();
    assert.deepEqual(inputs(rec.get("ssh-key")), { algorithm: "ED25519" });
    assert.equal(rec.get("ssh-key").type, KEY);
    assert.deepEqual(inputs(rec.get("ssh-keypair")), {
      publicKey: "ssh-ed25519 AAAAssh-key",
      tags: { Name: "test-ssh" },
    });
    for (const r of rec.byType(INSTANCE)) assert.equal(inputs(r).keyName, "ssh-keypair-key", r.name);
    assert.equal(await resolve(out.sshPublicKey), "ssh-ed25519 AAAAssh-key");
    assert.ok(await pulumi.isSecret(out.sshPrivateKey));
  });

  it("makes 3 masters and 3 workers by default, one per zone, at fixed private addresses, locked down", async () => {
    const { rec, out } = await deploy();
    assert.deepEqual(rec.names(INSTANCE), ["m1", "m2", "m3", "w1", "w2", "w3"]);
    const placed = rec.byType(INSTANCE).map((r) => [r.name, inputs(r).subnetId, inputs(r).privateIp]);
    assert.deepEqual(placed.sort(), [
      ["m1", "private-us-east-1a-id", "10.0.0.10"],
      ["m2", "private-us-east-1b-id", "10.0.32.10"],
      ["m3", "private-us-east-1c-id", "10.0.64.10"],
      ["w1", "private-us-east-1a-id", "10.0.0.32"],
      ["w2", "private-us-east-1b-id", "10.0.32.32"],
      ["w3", "private-us-east-1c-id", "10.0.64.32"],
    ]);
    assert.deepEqual(inputs(rec.get("m1")), {
      ami: "ami-0123456789abcdef0",
      instanceType: "m6i.large",
      subnetId: "private-us-east-1a-id",
      privateIp: "10.0.0.10",
      associatePublicIpAddress: false,
      vpcSecurityGroupIds: ["nodes-sg-id", "masters-sg-id"],
      keyName: "ssh-keypair-key",
      userData: ROOT_LOGIN_USER_DATA,
      sourceDestCheck: true,
      rootBlockDevice: { volumeType: "gp3", volumeSize: 50, encrypted: true, deleteOnTermination: true },
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      tags: { Name: "test-m1", "hakube:role": "master" },
    });
    assert.deepEqual(
      (await resolve(pulumi.output(out.masters))).map((m) => [m.name, m.zone, m.privateIp, m.instanceId]),
      [
        ["m1", "us-east-1a", "10.0.0.10", "m1-id"],
        ["m2", "us-east-1b", "10.0.32.10", "m2-id"],
        ["m3", "us-east-1c", "10.0.64.10", "m3-id"],
      ],
    );
  });

  it("counts, instance types and tags from the args; 5 masters and 7 workers spread round robin", async () => {
    const { rec } = await deploy({
      masterCount: 5,
      workerCount: 7,
      masterInstanceType: "m6i.xlarge",
      workerInstanceType: "c6i.2xlarge",
      rootVolumeGb: 100,
      tags: { team: "platform" },
    });
    assert.equal(rec.byType(INSTANCE).filter((r) => r.name.startsWith("m")).length, 5);
    assert.equal(rec.byType(INSTANCE).filter((r) => r.name.startsWith("w")).length, 7);
    assert.equal(inputs(rec.get("m4")).privateIp, "10.0.0.11");
    assert.equal(inputs(rec.get("w7")).privateIp, "10.0.0.34");
    assert.equal(inputs(rec.get("m5")).instanceType, "m6i.xlarge");
    assert.equal(inputs(rec.get("w1")).instanceType, "c6i.2xlarge");
    assert.equal((inputs(rec.get("w1")).rootBlockDevice as Record<string, unknown>).volumeSize, 100);
    assert.deepEqual(inputs(rec.get("w1")).tags, {
      team: "platform",
      Name: "test-w1",
      "hakube:role": "worker",
    });
    assert.deepEqual(inputs(rec.get("vpc")).tags, { team: "platform", Name: "test-vpc" });
    assert.deepEqual(inputs(rec.get("api-nlb")).tags, { team: "platform" });
    assert.equal(rec.byType("aws:lb/targetGroupAttachment:TargetGroupAttachment").length, 5);
  });

  it("stacked etcd (default): no etcd hosts, no EtcdCluster, HaControlPlane's own etcd CA", async () => {
    const { rec, out } = await deploy();
    assert.ok(!rec.byType(INSTANCE).some((r) => r.name.startsWith("e")));
    assert.ok(!rec.names(CMD).some((n) => n.startsWith("etcd-")));
    assert.ok(rec.names(SELF).includes("k8s-etcd-ca-cert"));
    assert.equal(await resolve(pulumi.output(out.etcdEndpoints)), undefined);
  });

  it("external etcd: 3 etcd instances in their own group, an EtcdCluster, HaControlPlane on its endpoints", async () => {
    const { rec, out } = await deploy({ etcd: externalEtcd }, 5);
    assert.deepEqual(
      rec
        .byType(INSTANCE)
        .filter((r) => r.name.startsWith("e"))
        .map((r) => [r.name, inputs(r).privateIp, inputs(r).vpcSecurityGroupIds])
        .sort(),
      [
        ["e1", "10.0.0.20", ["etcd-sg-id"]],
        ["e2", "10.0.32.20", ["etcd-sg-id"]],
        ["e3", "10.0.64.20", ["etcd-sg-id"]],
      ],
    );
    const ingress = rulesBySg(rec, INGRESS);
    assert.deepEqual(
      ingress["etcd-sg"],
      rules(`tcp/22 ${ADMIN}`, "tcp/2379 masters-sg", "tcp/2379-2380 etcd-sg"),
    );
    assert.deepEqual(
      ingress["masters-sg"],
      rules("tcp/6443 api-sg", "tcp/6443 nodes-sg"),
      "no etcd ports on masters",
    );
    assert.deepEqual(rulesBySg(rec, EGRESS)["etcd-sg"], ["-1/all 0.0.0.0/0"]);
    for (const e of ["e1", "e2", "e3"]) {
      assert.ok(rec.names(CMD).includes(`etcd-${e}-member`));
      assertRegisteredAfter(rec, `etcd-${e}-install`, e);
    }
    assertRegisteredAfter(rec, "k8s-m1-init", "etcd-health");
    assert.ok(!rec.names(SELF).includes("k8s-etcd-ca-cert"));
    assert.match(
      bundle(rec.get("k8s-m1-init")).get("/etc/kubernetes/hakube/kubeadm.yaml")!,
      /external:\n {4}endpoints:\n {4}- https:\/\/10\.0\.0\.20:2379\n {4}- https:\/\/10\.0\.32\.20:2379\n {4}- https:\/\/10\.0\.64\.20:2379\n/,
    );
    assert.equal((await resolve(pulumi.output(out.etcdEndpoints)))!.length, 3);
  });

  it("etcdBackup: a bucket encrypted, versioned, private, TLS only, expiring old snapshots; a role that may only put, get and list them", async () => {
    const { rec, out } = await deploy({ etcd: externalEtcd, etcdBackup: true, etcdBackupExpireDays: 14 });
    assert.deepEqual(rec.names(BUCKET), ["etcd-backups"]);
    const of = (type: string) => {
      const list = rec.byType(type);
      assert.equal(list.length, 1, type);
      const i = inputs(list[0]);
      assert.equal(i.bucket, "etcd-backups-id", `${type} is on the snapshots' bucket`);
      return i;
    };
    assert.deepEqual(
      of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").rules,
      [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
    );
    assert.deepEqual(of("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration, {
      status: "Enabled",
    });
    const block = of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
      assert.equal(block[k], true, k);
    assert.deepEqual(of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules, [
      {
        id: "expire-etcd-snapshots",
        status: "Enabled",
        filter: { prefix: "etcd/" },
        expiration: { days: 14 },
        noncurrentVersionExpiration: { noncurrentDays: 7 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ]);
    assert.ok(rec.dependsOn("etcd-backups-lifecycle", "etcd-backups-versioning"));
    assert.deepEqual(JSON.parse(String(of("aws:s3/bucketPolicy:BucketPolicy").policy)), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyWithoutTls",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
    // The role: EC2 only, and exactly these actions on exactly these resources; no other policy.
    const role = inputs(rec.get("etcd-backup-role"));
    assert.deepEqual(JSON.parse(String(role.assumeRolePolicy)).Statement, [
      { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    assert.equal(role.managedPolicyArns, undefined);
    assert.deepEqual(rec.names("aws:iam/rolePolicy:RolePolicy"), ["etcd-backup-s3"]);
    assert.deepEqual(rec.names("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), []);
    const policy = inputs(rec.get("etcd-backup-s3"));
    assert.equal(policy.role, "etcd-backup-role-id");
    assert.deepEqual(JSON.parse(String(policy.policy)).Statement, [
      {
        Sid: "SnapshotsUnderThePrefix",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: [`${BUCKET_ARN}/etcd/*`],
      },
      {
        Sid: "ListThePrefix",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [BUCKET_ARN],
        Condition: { StringLike: { "s3:prefix": ["etcd/*"] } },
      },
    ]);
    // The profile on the etcd instances only.
    assert.deepEqual(inputs(rec.get("etcd-backup-profile")).role, "etcd-backup-role");
    const profiles = rec
      .byType(INSTANCE)
      .map((r) => [r.name, inputs(r).iamInstanceProfile])
      .sort();
    assert.deepEqual(profiles, [
      ["e1", "etcd-backup-profile"],
      ["e2", "etcd-backup-profile"],
      ["e3", "etcd-backup-profile"],
      ["m1", undefined],
      ["m2", undefined],
      ["m3", undefined],
      ["w1", undefined],
      ["w2", undefined],
      ["w3", undefined],
    ]);
    // EtcdCluster's backup.s3: the bucket, its region, the prefix the role allows.
    for (const e of ["e1", "e2", "e3"]) {
      const create = String(inputs(rec.get(`etcd-${e}-backup`)).create);
      assert.match(create, /^S3_BUCKET='etcd-backups-0a1b2c3'$/m);
      assert.match(create, /^S3_PREFIX='etcd'$/m);
      assert.match(create, /^S3_REGION='us-east-1'$/m);
    }
    assert.equal(await resolve(pulumi.output(out.etcdBackupBucket)), "etcd-backups-0a1b2c3");
  });

  it("no etcdBackup: no bucket, no role, no instance profile, no snapshot timer", async () => {
    const { rec } = await deploy({ etcd: externalEtcd });
    assert.deepEqual(rec.names(BUCKET), []);
    assert.deepEqual(rec.names("aws:iam/role:Role"), []);
    assert.ok(rec.byType(INSTANCE).every((r) => inputs(r).iamInstanceProfile === undefined));
    assert.ok(!rec.names(CMD).some((n) => n.endsWith("-backup")));
  });

  it("HaControlPlane's endpoint is the API's DNS name:6443, a CNAME of the NLB in a private zone, made first", async () => {
    const { rec, out } = await deploy({}, 10);
    assert.deepEqual(inputs(rec.get("api-zone")), {
      name: "hakube.internal",
      comment: "hakube test: the Kubernetes API's name",
      vpcs: [{ vpcId: "vpc-id" }],
      tags: { Name: "test-api" },
    });
    assert.deepEqual(inputs(rec.get("api-record")), {
      zoneId: "Z-api-zone",
      name: "api.hakube.internal",
      type: "CNAME",
      ttl: 60,
      records: ["api-nlb-0123456789abcdef.elb.us-east-1.amazonaws.com"],
    });
    assert.equal(await resolve(out.endpoint), "api.hakube.internal:6443");
    assert.match(await resolve(out.kubeconfig), /server: https:\/\/api\.hakube\.internal:6443\n/);
    assert.match(
      bundle(rec.get("k8s-m1-init")).get("/etc/kubernetes/hakube/kubeadm.yaml")!,
      /controlPlaneEndpoint: api\.hakube\.internal:6443\n/,
    );
    for (const earlier of [
      "api-record",
      "api-listener",
      "api-m1-attachment",
      "api-m3-attachment",
      "m1",
      "w3",
    ]) {
      assertRegisteredAfter(rec, "k8s-m1-prepare", earlier);
      // Through outputs (the endpoint, the instances' privateIp), not dependsOn: read from the registrations.
      assert.ok(rec.dependsOn("k8s-m1-init", earlier), `k8s-m1-init does not depend on ${earlier}`);
    }
    assertRegisteredAfter(rec, "k8s-m2-join", "k8s-m1-init");
    assertRegisteredAfter(rec, "k8s-m3-join", "k8s-m2-join");
    assertRegisteredAfter(rec, "k8s-w1-join", "k8s-m3-join");
    assertRegisteredAfter(rec, "k8s-ready", "k8s-w3-join");
  });

  it("connects to private addresses as root with the generated key, through the bastion, pinning given host keys", async () => {
    const bastion = { host: "203.0.113.5", user: "ec2-user", privateKey: "BASTION FAKE-PRIVATE-KEY" };
    const { rec } = await deploy({ bastion, hostKeys: { m2: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIm2" } });
    for (const r of rec.byType(CMD)) {
      assert.ok(isSecretInput(r.inputs.connection), `${r.name}: connection`);
      const c = inputs(r).connection as Record<string, unknown>;
      assert.match(String(c.host), /^10\.0\.(0|32|64)\.\d+$/, r.name);
      assert.equal(c.user, "root");
      assert.match(String(c.privateKey), /OPENSSH FAKE-PRIVATE-KEY-----\nssh-key\n/);
      assert.equal(c.dialErrorLimit, 30);
      const p = c.proxy as Record<string, unknown>;
      assert.deepEqual({ host: p.host, user: p.user, privateKey: p.privateKey }, bastion, r.name);
    }
    assert.equal(
      (inputs(rec.get("k8s-m2-join")).connection as Record<string, unknown>).hostKey,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIm2",
    );
    assert.equal((inputs(rec.get("k8s-m3-join")).connection as Record<string, unknown>).hostKey, undefined);
  });

  it("keeps the kubeconfig, the SSH key, the bootstrap token and the encryption key secret", async () => {
    const { rec, out } = await deploy({ etcd: externalEtcd });
    assert.ok(await pulumi.isSecret(out.kubeconfig), "kubeconfig");
    assert.ok(await pulumi.isSecret(out.sshPrivateKey), "sshPrivateKey");
    assert.ok(!(await pulumi.isSecret(out.endpoint)));
    const encryptionKey = Buffer.alloc(32, "k8s-encryption-key").toString("base64");
    for (const r of rec.resources) {
      for (const s of ["FAKE-PRIVATE-KEY", "random-k8s-token-secret", encryptionKey]) {
        assert.deepEqual(plainOccurrences(r.inputs, s), [], `${r.name} carries ${s} outside a secret`);
      }
    }
    for (const name of ["k8s-m1-init", "k8s-m3-join", "k8s-w2-join", "k8s-token", "etcd-e1-configure"]) {
      assert.ok(isSecretInput(rec.get(name).inputs.stdin), `${name}: stdin`);
    }
  });

  it("uses an existing VPC and its subnets: makes no network, places the instances in the given blocks", async () => {
    const { rec, out } = await deploy({
      vpcId: "vpc-0123456789abcdef0",
      subnets: [
        { id: "subnet-0aaa", zone: "eu-west-1a", cidr: "172.16.0.0/24" },
        { id: "subnet-0bbb", zone: "eu-west-1b", cidr: "172.16.1.0/24" },
      ],
    });
    for (const type of [
      SUBNET,
      "aws:ec2/natGateway:NatGateway",
      "aws:ec2/route:Route",
      "aws:ec2/internetGateway:InternetGateway",
    ]) {
      assert.deepEqual(rec.byType(type), [], type);
    }
    assert.deepEqual(
      rec.byType("aws:ec2/vpc:Vpc").map((r) => r.name),
      ["api-vpc"],
      "only the NLB's read of the VPC",
    );
    assert.deepEqual(inputs(rec.get("api-nlb")).subnets, ["subnet-0aaa", "subnet-0bbb"]);
    assert.equal(inputs(rec.get("nodes-sg")).vpcId, "vpc-0123456789abcdef0");
    assert.deepEqual(inputs(rec.get("api-zone")).vpcs, [{ vpcId: "vpc-0123456789abcdef0" }]);
    assert.deepEqual(
      rec
        .byType(INSTANCE)
        .map((r) => [r.name, inputs(r).subnetId, inputs(r).privateIp])
        .sort(),
      [
        ["m1", "subnet-0aaa", "172.16.0.10"],
        ["m2", "subnet-0bbb", "172.16.1.10"],
        ["m3", "subnet-0aaa", "172.16.0.11"],
        ["w1", "subnet-0aaa", "172.16.0.32"],
        ["w2", "subnet-0bbb", "172.16.1.32"],
        ["w3", "subnet-0aaa", "172.16.0.33"],
      ],
    );
    assert.equal(await resolve(out.vpcId), "vpc-0123456789abcdef0");
  });

  it("refuses bad settings before creating anything, naming the config keys", async () => {
    const rec = new Recorder();
    await rec.install();
    const refused = (over: Partial<AwsStackArgs>, text: string) =>
      assert.throws(
        () => awsStack(baseArgs(over)),
        (e: Error) => {
          assert.ok(e.message.startsWith("the aws stack has invalid settings:\n"), e.message);
          assert.ok(e.message.includes(text), `${JSON.stringify(e.message)} lacks ${JSON.stringify(text)}`);
          return true;
        },
      );
    refused(
      { zones: ["us-east-1a"] },
      'hakube:awsZones must list 2 to 6 availability zones (the NLB spans at least two), got ["us-east-1a"]',
    );
    refused(
      { zones: ["us-east-1a", "us-east-1a"] },
      'hakube:awsZones must name different availability zones, got "us-east-1a" twice',
    );
    refused(
      { vpcCidr: "10.0.0.0/24" },
      'hakube:awsVpcCidr must be an IPv4 CIDR block from /16 to /20, got "10.0.0.0/24"',
    );
    refused({ sshCidrs: [] }, "nothing may reach the instances over SSH");
    refused(
      { sshCidrs: ["10.0.0.1"] },
      'hakube:awsSshCidrs[0] must be a CIDR block ("203.0.113.0/24"), got "10.0.0.1"',
    );
    refused({ masterCount: 0 }, "hakube:awsMasterCount must be a whole number, at least 1, got 0");
    refused(
      { hostKeys: { m9: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIm9" } },
      'hakube:awsHostKeys names "m9", which is no instance of this stack',
    );
    refused(
      { apiDnsName: "api" },
      "hakube:awsApiDnsName must be a lower-case DNS name of at least three labels",
    );
    refused(
      { subnets: [{ id: "subnet-0aaa", zone: "eu-west-1a", cidr: "172.16.0.0/24" }] },
      'hakube:awsVpcId must be a VPC id ("vpc-0123456789abcdef0") when hakube:awsSubnets is given, got undefined',
    );
    refused(
      {
        vpcId: "vpc-0123",
        subnets: [
          { id: "subnet-0aaa", zone: "eu-west-1a", cidr: "172.16.0.0/26" },
          { id: "subnet-0bbb", zone: "eu-west-1b", cidr: "172.16.0.64/26" },
        ],
        workerCount: 100,
      },
      "hakube:awsWorkerCount 100 puts 50 worker instances in zone eu-west-1a, but subnet 172.16.0.0/26 holds at most 31",
    );
    refused(
      { etcdBackup: true },
      "hakube:awsEtcdBackup needs hakube:etcdTopology external (hakube's EtcdCluster takes the snapshots; kubeadm's stacked etcd has no backup here), got stacked",
    );
    refused(
      { etcd: externalEtcd, etcdBackup: true, etcdBackupExpireDays: 0 },
      "hakube:awsEtcdBackupExpireDays must be a whole number of days, 1-3650, got 0",
    );
    refused(
      { etcd: externalEtcd, etcdBackupExpireDays: 30 },
      "hakube:awsEtcdBackupExpireDays needs hakube:awsEtcdBackup true, got undefined",
    );
    await rec.idle();
    assert.equal(rec.resources.length, 0);
  });
});
