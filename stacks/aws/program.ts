/**
 * The AWS stack: a VPC across availability zones (or given private subnets), security groups per role,
 * an ED25519 key pair, masters and workers (and etcd hosts) as EC2 instances with fixed private
 * addresses, an internal NLB (hakube.LoadBalancer kind awsNlb) in front of the masters under a private
 * DNS name, and hakube's HaControlPlane (stacked etcd, or hakube.EtcdCluster on its own instances, with
 * `etcdBackup` its snapshots in an S3 bucket: ./backup.ts).
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
import * as tls from "@pulumi/tls";
import * as hakube from "../../index";
import { externalEtcd } from "../common";
import { makeNetwork, makeSecurityGroups } from "./network";
import { API_SERVER_PORT } from "../../components/contracts";
import { AWS_DEFAULTS, HostPlan, planAws } from "./plan";
import { awsPlanProblems } from "./validate";
import { DEFAULT_ETCD_BACKUP_EXPIRE_DAYS, etcdBackupProblems, makeEtcdBackupBucket } from "./backup";
import type { AwsStackArgs } from "./types";

export type { AwsStackArgs, AwsSubnetArgs, ClusterArgs, EtcdStackArgs } from "./types";

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

export function awsStack(args: AwsStackArgs) {
  const etcdTopology = args.etcd?.topology ?? hakube.EtcdTopology.Stacked;
  const external = etcdTopology === hakube.EtcdTopology.External;
  const planArgs = { ...args, externalEtcd: external };
  const problems = [...awsPlanProblems(planArgs), ...etcdBackupProblems(args, external)];
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
  const { nodesSg, mastersSg, etcdSg, cni } = makeSecurityGroups(args, network.vpcId, external, named);

  // External etcd's snapshots: a bucket, and the role the etcd instances upload with.
  const backup =
    external && args.etcdBackup === true
      ? makeEtcdBackupBucket(args.etcdBackupExpireDays ?? DEFAULT_ETCD_BACKUP_EXPIRE_DAYS, named)
      : undefined;

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
        // Only the etcd instances get a role, and only with etcdBackup (S3 uploads of the snapshots).
        iamInstanceProfile: h.role === "etcd" ? backup?.instanceProfile.name : undefined,
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
    port: API_SERVER_PORT,
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
        backup: backup && { s3: backup.s3 },
      })
    : undefined;

  // kubeadm init reaches the API through the endpoint: the NLB (its endpoint resolves once the listener and
  // targets exist) and its name first, through this output; the instances through their addresses, an
  // external etcd through its outputs. No dependsOn.
  const endpoint = pulumi
    .all([api.endpoint, record.fqdn])
    .apply(() => `${plan.apiDnsName}:${API_SERVER_PORT}`);
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
    etcdBackupBucket: backup?.s3.bucket,
    sshPublicKey: sshKey.publicKeyOpenssh,
    sshPrivateKey: pulumi.secret(sshKey.privateKeyOpenssh),
  };
}
