/**
 * The AWS stack's home for etcd's snapshots (external etcd with `etcdBackup`): an S3 bucket and the etcd
 * instances' role that may write to it, nothing more. EtcdCluster's `backup.s3` uploads every verified
 * snapshot there with the AWS CLI and the instance role's temporary credentials (IMDSv2): no access key
 * exists anywhere.
 *
 * The bucket:
 * - SSE-KMS with the AWS-managed key `aws/s3` and an S3 Bucket Key: encrypted with KMS without a key
 *   to create, pay for and keep a key policy of; its key policy lets the account's principals use it
 *   through S3 only, so the role needs no `kms:` permission. A stack-made key would be the choice to
 *   restrict decryption to named principals or to share snapshots with another account.
 * - versioning on: an overwritten or deleted snapshot stays as a noncurrent version;
 * - every public access blocked, and a bucket policy that denies any request without TLS;
 * - a lifecycle rule under the prefix: snapshots expire after `etcdBackupExpireDays` (in a versioned
 *   bucket that makes them noncurrent), noncurrent versions are deleted ETCD_BACKUP_NONCURRENT_DAYS
 *   later, and incomplete multipart uploads after a day. This is the retention in S3: the members
 *   prune only their local copies.
 * - not emptied by `pulumi destroy` (no forceDestroy): the destroy stops at a bucket that holds
 *   snapshots, so that nobody loses the cluster's backups by tearing down its instances.
 *
 * The role (etcd instances only): s3:PutObject and s3:GetObject on `<bucket>/<prefix>/*`, s3:ListBucket on
 * the bucket for keys under the prefix. No delete: a member that is taken over cannot remove the
 * backups (it can write new versions, and versioning keeps the old ones).
 */
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import * as s3 from "@pulumi/aws/s3";
import { show } from "../../components/show";

/** The key prefix of the snapshots in the bucket (EtcdCluster's default backup.s3.prefix). */
export const ETCD_BACKUP_PREFIX = "etcd";
/**
 * Days a snapshot stays in the bucket. 30: a month of restore points, well beyond the members' own 5
 * snapshots (EtcdCluster's local retention), at 15-minute snapshots about 8640 objects per member.
 */
export const DEFAULT_ETCD_BACKUP_EXPIRE_DAYS = 30;
/** Days an expired (noncurrent) snapshot version is kept before S3 deletes it. */
export const ETCD_BACKUP_NONCURRENT_DAYS = 7;
export const MAX_ETCD_BACKUP_EXPIRE_DAYS = 3650;

/** The settings' problems, each naming the config key and the value received. */
export function etcdBackupProblems(
  a: { etcdBackup?: boolean; etcdBackupExpireDays?: number },
  external: boolean,
): string[] {
  const p: string[] = [];
  if (a.etcdBackup !== undefined && typeof a.etcdBackup !== "boolean") {
    p.push(`hakube:awsEtcdBackup must be true or false, got ${show(a.etcdBackup)}`);
  }
  if (a.etcdBackup === true && !external) {
    p.push(
      "hakube:awsEtcdBackup needs hakube:etcdTopology external (hakube's EtcdCluster takes the snapshots; kubeadm's stacked etcd has no backup here), got stacked",
    );
  }
  const days = a.etcdBackupExpireDays;
  if (
    days !== undefined &&
    !(typeof days === "number" && Number.isInteger(days) && days >= 1 && days <= MAX_ETCD_BACKUP_EXPIRE_DAYS)
  ) {
    p.push(
      `hakube:awsEtcdBackupExpireDays must be a whole number of days, 1-${MAX_ETCD_BACKUP_EXPIRE_DAYS}, got ${show(days)}`,
    );
  }
  if (days !== undefined && a.etcdBackup !== true) {
    p.push(`hakube:awsEtcdBackupExpireDays needs hakube:awsEtcdBackup true, got ${show(a.etcdBackup)}`);
  }
  return p;
}

/** The role's policy document: exactly these actions on exactly these resources. */
export function etcdBackupRolePolicy(bucketArn: string, prefix: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "SnapshotsUnderThePrefix",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: [`${bucketArn}/${prefix}/*`],
      },
      {
        Sid: "ListThePrefix",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [bucketArn],
        Condition: { StringLike: { "s3:prefix": [`${prefix}/*`] } },
      },
    ],
  });
}

/** The bucket policy: every request without TLS is denied, whoever makes it. */
export function tlsOnlyBucketPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

export interface EtcdBackupBucket {
  bucket: s3.Bucket;
  /** For the etcd instances' iamInstanceProfile. */
  instanceProfile: iam.InstanceProfile;
  /** EtcdCluster's backup.s3. */
  s3: { bucket: pulumi.Output<string>; prefix: string; region: pulumi.Output<string> };
}

export function makeEtcdBackupBucket(
  expireDays: number,
  named: (n: string) => Record<string, string>,
): EtcdBackupBucket {
  const bucket = new s3.Bucket("etcd-backups", { tags: named("etcd-backups") });
  const parent = { parent: bucket };
  new s3.BucketServerSideEncryptionConfiguration(
    "etcd-backups-sse",
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
    },
    parent,
  );
  const versioning = new s3.BucketVersioning(
    "etcd-backups-versioning",
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    parent,
  );
  const publicBlock = new s3.BucketPublicAccessBlock(
    "etcd-backups-public-access",
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    parent,
  );
  new s3.BucketLifecycleConfiguration(
    "etcd-backups-lifecycle",
    {
      bucket: bucket.id,
      rules: [
        {
          id: "expire-etcd-snapshots",
          status: "Enabled",
          filter: { prefix: `${ETCD_BACKUP_PREFIX}/` },
          expiration: { days: expireDays },
          noncurrentVersionExpiration: { noncurrentDays: ETCD_BACKUP_NONCURRENT_DAYS },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    // AWS asks for versioning before lifecycle rules on noncurrent versions.
    { parent: bucket, dependsOn: [versioning] },
  );
  new s3.BucketPolicy(
    "etcd-backups-tls-only",
    { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyBucketPolicy) },
    // Put after the public access block: S3 refuses some policies while the block is being set.
    { parent: bucket, dependsOn: [publicBlock] },
  );

  const role = new iam.Role("etcd-backup-role", {
    description: "hakube: etcd instances upload their snapshots",
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
    tags: named("etcd-backup"),
  });
  new iam.RolePolicy("etcd-backup-s3", {
    role: role.id,
    policy: bucket.arn.apply((arn) => etcdBackupRolePolicy(arn, ETCD_BACKUP_PREFIX)),
  });
  const instanceProfile = new iam.InstanceProfile("etcd-backup-profile", {
    role: role.name,
    tags: named("etcd-backup"),
  });
  return {
    bucket,
    instanceProfile,
    s3: { bucket: bucket.bucket, prefix: ETCD_BACKUP_PREFIX, region: bucket.region },
  };
}
