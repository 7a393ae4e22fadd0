/** The AWS stack's args: what stacks/index.ts reads from `hakube:*` config. */
import type * as hakube from "../../index";
import type { ClusterArgs, EtcdStackArgs } from "../common";
import type { AwsNatGateways } from "./plan";

export type { ClusterArgs, EtcdStackArgs } from "../common";

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
  /**
   * External etcd only: scheduled snapshots (EtcdCluster's defaults) uploaded to an S3 bucket the stack
   * makes (SSE-KMS, versioned, public access blocked, TLS only, a lifecycle rule), with an instance role
   * on the etcd instances that may only put and get snapshots there. @default false
   */
  etcdBackup?: boolean;
  /** Days a snapshot stays in the bucket (its lifecycle rule). @default DEFAULT_ETCD_BACKUP_EXPIRE_DAYS (30) */
  etcdBackupExpireDays?: number;
  /** Tags for every AWS resource. */
  tags?: Record<string, string>;
}
