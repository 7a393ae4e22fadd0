/**
 * EtcdCluster day 2: scheduled snapshots (`backup`) and building a cluster from a snapshot (`restoreFrom`).
 * Args, defaults with their sources, validation and resolution into plain settings. Pure: the only
 * Pulumi import is a type.
 *
 * Scheduling: every member runs a systemd timer that snapshots its own member (only while it is healthy).
 * The timers fire on the wall clock, each member shifted by `interval * i / n` (i its position in
 * `members`), so no two members snapshot at the same moment and the cluster gets a fresh snapshot every
 * `interval / n`, from whichever members are healthy; the snapshots of a lost host are on the others.
 */
import type { Input } from "@pulumi/pulumi";
import { isIP, isOpenSshPublicKey, isPending, isPort, Problem, show } from "../validation";
import { isDnsLabel } from "../net";

/** Where the off-host copy goes: a host reached over SSH from every member. */
export interface EtcdBackupCopyToArgs {
  /** The target's IP address or DNS name. */
  host: string;
  /** The target's SSH port. @default 22 */
  port?: number;
  /** The user the members log in as. Use a dedicated user that can only write to `directory`. */
  user: string;
  /**
   * The private key (OpenSSH or PEM) that `user` accepts. A secret: it reaches every member on stdin and
   * is kept there as a file, mode 0600, readable by root only (the timer runs unattended).
   */
  privateKey: Input<string>;
  /** The target's SSH host key (authorized_keys line): required, the copy refuses any other server. */
  hostKey: string;
  /** Where the snapshots go on the target. @default "/var/backups/etcd" on the target */
  directory?: string;
  /** Snapshots of each member kept there, newest first. @default the local `retention` */
  retention?: number;
}

/** Encrypt the off-host copies to a recipient's certificate (CMS, AES-256, `openssl cms -encrypt`). */
export interface EtcdBackupEncryptionArgs {
  /**
   * The recipient's X.509 certificate (PEM, RSA or EC key), such as a `tls.SelfSignedCert`'s `certPem`
   * whose private key stays with you. Decrypt with
   * `openssl cms -decrypt -inform DER -in <file>.db.cms -inkey key.pem -out <file>.db`.
   */
  certificatePem: Input<string>;
}

/**
 * Upload each snapshot to an S3 bucket with the AWS CLI (`aws`), using the credentials the host already
 * has: on EC2 its instance profile's role (the AWS stack makes one that may only put and get objects under
 * `prefix` in `bucket`, and list the bucket). No access key is ever an argument, a file on the host or
 * part of a command line. Retention in the bucket is its lifecycle rule, not the members'.
 */
export interface EtcdBackupS3Args {
  /**
   * The bucket's name (S3 naming rules: 3-63 lower-case letters, digits, '.' and '-'), such as an
   * `aws.s3.Bucket`'s `bucket` output.
   */
  bucket: Input<string>;
  /**
   * The key prefix the snapshots go under: path segments of letters, digits, '.', '_' and '-' joined
   * by '/', without a leading or trailing '/'. @default "etcd"
   */
  prefix?: string;
  /** The bucket's region, such as "eu-west-1" (an `aws.s3.Bucket`'s `region` output). */
  region: Input<string>;
}

/** EtcdBackupS3Args once its Inputs are known. */
export interface EtcdBackupS3Plain {
  bucket: string;
  prefix?: string;
  region: string;
}

/** EtcdBackupArgs with the bucket and region known: what resolveBackup takes. */
export type EtcdBackupPlainArgs = Omit<EtcdBackupArgs, "s3"> & { s3?: EtcdBackupS3Plain };

/** Scheduled, verified snapshots on every member, optionally copied (and encrypted) off the hosts. */
export interface EtcdBackupArgs {
  /**
   * Seconds between two snapshots of one member. A whole divisor of a minute (10, 12, 15, 20, 30), of an
   * hour in whole minutes (60 ... 3600) or of a day in whole hours (3600 ... 86400), so that the schedule
   * is a fixed wall-clock calendar. @default 900 (15 min, kops' etcd-manager)
   */
  intervalSeconds?: number;
  /** Snapshots of each member kept on it, newest first. @default 5 (RKE2's etcd-snapshot-retention) */
  retention?: number;
  /** On each member; mode 0700, root only. @default "/var/backups/etcd" */
  directory?: string;
  /** Also copy each snapshot, once verified, to this host over SSH. */
  copyTo?: EtcdBackupCopyToArgs;
  /** Also upload each snapshot, once verified, to an S3 bucket with the host's instance role. */
  s3?: EtcdBackupS3Args;
  /** Encrypt the copies that leave the host (over SSH and to S3). Needs `copyTo` or `s3`. */
  encryptTo?: EtcdBackupEncryptionArgs;
}

/** A snapshot that a new cluster is built from before its first start. */
export interface EtcdRestoreArgs {
  /**
   * The snapshot (`etcdctl snapshot save` output) on every member at this absolute path; such as a
   * file of the backup directory, copied to each member.
   */
  path: string;
  /** The snapshot's sha256 (64 lower-case hex digits): a member restores nothing unless it matches. */
  sha256: string;
  /**
   * Restore also on members that already have data: their data is moved aside to
   * `<dataDir>.before-restore-<time>`, never deleted. Without it such a member refuses. @default false
   */
  force?: boolean;
  /**
   * Where the members' etcdutl has `--bump-revision` (etcd 3.6; checked on the host): add this to the revision and mark the older ones
   * compacted, so that Kubernetes' watch caches never serve data from before the restore (etcd issue
   * 16028). 0: keep the snapshot's revision. etcd 3.4 (etcdctl restore) always keeps it.
   * @default 1000000000 (etcd's example)
   */
  bumpRevision?: number;
}

/** kops' etcd-manager snapshots every 15 minutes. */
export const DEFAULT_BACKUP_INTERVAL_SECONDS = 900;
/** RKE2/k3s keep 5 snapshots (etcd-snapshot-retention); kops keeps all of the last hour (4 at 15 min). */
export const DEFAULT_BACKUP_RETENTION = 5;
/** Debian's place for backups (/var/backups), one folder for etcd. */
export const DEFAULT_BACKUP_DIR = "/var/backups/etcd";
export const DEFAULT_COPY_DIR = "/var/backups/etcd";
/** The key prefix in the bucket when backup.s3.prefix is not set. */
export const DEFAULT_S3_PREFIX = "etcd";
/** A snapshot needs a few seconds on a large database; shorter intervals would overlap. */
export const MIN_BACKUP_INTERVAL_SECONDS = 10;
/** etcd's own example for `etcdutl snapshot restore --bump-revision` (docs "Disaster recovery"). */
export const DEFAULT_BUMP_REVISION = 1_000_000_000;
export const MAX_BACKUP_RETENTION = 10000;

/** Paths on members. */
export const BACKUP_CONFIG_DIR = "/etc/etcd/backup";
export const BACKUP_SCRIPT = "/etc/etcd/backup/snapshot.sh";
export const BACKUP_KEY_FILE = "/etc/etcd/backup/ssh-key";
export const BACKUP_KNOWN_HOSTS = "/etc/etcd/backup/known_hosts";
export const BACKUP_RECIPIENT_FILE = "/etc/etcd/backup/recipient.pem";
export const BACKUP_SERVICE = "etcd-backup.service";
export const BACKUP_TIMER = "etcd-backup.timer";
export const BACKUP_SERVICE_FILE = `/etc/systemd/system/${BACKUP_SERVICE}`;
export const BACKUP_TIMER_FILE = `/etc/systemd/system/${BACKUP_TIMER}`;
/** Written by a restore: the sha256 it restored from, so that a re-run knows the data is the restore's. */
export const RESTORED_MARK_FILE = "/etc/etcd/restored-from";

/** True for an interval the wall-clock calendar can express (see EtcdBackupArgs.intervalSeconds). */
export function isCalendarInterval(s: unknown): s is number {
  if (typeof s !== "number" || !Number.isInteger(s) || s < MIN_BACKUP_INTERVAL_SECONDS) return false;
  if (s < 60) return 60 % s === 0;
  if (s <= 3600) return s % 60 === 0 && 3600 % s === 0;
  return s % 3600 === 0 && 86400 % s === 0;
}

/**
 * systemd's OnCalendar for "every `interval` seconds, `offset` seconds into each period" (offset < interval).
 * `*-*-* *:*:06/20` fires at :06, :26, :46 of every minute.
 */
export function calendarSpec(interval: number, offset: number): string {
  if (!isCalendarInterval(interval)) throw new Error(`not a calendar interval: ${interval}`);
  if (!Number.isInteger(offset) || offset < 0 || offset >= interval) throw new Error(`bad offset ${offset}`);
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(offset / 3600);
  const m = Math.floor((offset % 3600) / 60);
  const sec = offset % 60;
  if (interval < 60) return `*-*-* *:*:${two(sec)}/${interval}`;
  if (interval < 3600) return `*-*-* *:${two(m)}/${interval / 60}:${two(sec)}`;
  if (interval === 3600) return `*-*-* *:${two(m)}:${two(sec)}`;
  if (interval === 86400) return `*-*-* ${two(h)}:${two(m)}:${two(sec)}`;
  return `*-*-* ${two(h)}/${interval / 3600}:${two(m)}:${two(sec)}`;
}

/** Member `index` of `count`: its share of the interval, so that members take turns. */
export function memberOffset(interval: number, index: number, count: number): number {
  return Math.floor((interval * index) / Math.max(count, 1));
}

const absolutePath = /^\/[A-Za-z0-9._/-]*$/;
const isAbsolutePath = (v: unknown) =>
  typeof v === "string" && absolutePath.test(v) && v !== "/" && !v.includes("..") && !v.endsWith("/");
const isHostName = (v: unknown) =>
  typeof v === "string" && (isIP(v) || (v.length <= 253 && v.split(".").every((l) => isDnsLabel(l))));
const isRetention = (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= MAX_BACKUP_RETENTION;
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Problems in EtcdClusterArgs.backup, each naming the argument and the value. */
export function backupProblems(backup: unknown): Problem[] {
  if (backup === undefined) return [];
  if (!isObject(backup)) {
    return [
      {
        path: "backup",
        message: `backup must be an object (intervalSeconds, retention, directory, copyTo, s3, encryptTo), got ${show(backup)}`,
      },
    ];
  }
  const p: Problem[] = [];
  const b = backup as EtcdBackupArgs;
  if (b.intervalSeconds !== undefined && !isCalendarInterval(b.intervalSeconds)) {
    p.push({
      path: "backup.intervalSeconds",
      message: `backup.intervalSeconds must be whole seconds, at least ${MIN_BACKUP_INTERVAL_SECONDS}, that divide a minute (10, 12, 15, 20, 30), an hour in whole minutes (60, 120, ..., 900, 1800, 3600) or a day in whole hours (7200, ..., 43200, 86400), got ${show(b.intervalSeconds)}`,
    });
  }
  if (b.retention !== undefined && !isRetention(b.retention)) {
    p.push({
      path: "backup.retention",
      message: `backup.retention must be a whole number of snapshots, 1-${MAX_BACKUP_RETENTION}, got ${show(b.retention)}`,
    });
  }
  if (b.directory !== undefined && !isAbsolutePath(b.directory)) {
    p.push({
      path: "backup.directory",
      message: `backup.directory must be an absolute path of letters, digits, '.', '_', '-' and '/', got ${show(b.directory)}`,
    });
  }
  if (b.copyTo !== undefined) p.push(...copyToProblems(b.copyTo));
  if (b.s3 !== undefined) p.push(...s3Problems(b.s3));
  if (b.encryptTo !== undefined) {
    if (!isObject(b.encryptTo)) {
      p.push({
        path: "backup.encryptTo",
        message: `backup.encryptTo must be an object with certificatePem, got ${show(b.encryptTo)}`,
      });
    } else {
      const pem = b.encryptTo.certificatePem;
      if (!isPending(pem) && !isCertificatePem(pem)) {
        p.push({
          path: "backup.encryptTo.certificatePem",
          message: `backup.encryptTo.certificatePem must be a PEM certificate ("-----BEGIN CERTIFICATE-----"), got ${show(pem)}`,
        });
      }
      if (b.copyTo === undefined && b.s3 === undefined) {
        p.push({
          path: "backup.encryptTo",
          message: `backup.encryptTo encrypts the copies that leave the host, so it needs backup.copyTo or backup.s3, got neither`,
        });
      }
    }
  }
  return p;
}

export function isCertificatePem(v: unknown): boolean {
  return (
    typeof v === "string" &&
    /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/.test(v.trim() + "\n")
  );
}

function copyToProblems(c: unknown): Problem[] {
  if (!isObject(c)) {
    return [
      {
        path: "backup.copyTo",
        message: `backup.copyTo must be an object with host, user, privateKey and hostKey, got ${show(c)}`,
      },
    ];
  }
  const p: Problem[] = [];
  const at = (k: string) => `backup.copyTo.${k}`;
  if (!isHostName(c.host)) {
    p.push({
      path: at("host"),
      message: `${at("host")} must be an IP address or DNS name, got ${show(c.host)}`,
    });
  }
  if (c.port !== undefined && !isPort(c.port)) {
    p.push({ path: at("port"), message: `${at("port")} must be a port number 1-65535, got ${show(c.port)}` });
  }
  if (typeof c.user !== "string" || !/^[a-z_][a-z0-9_.-]{0,31}$/.test(c.user)) {
    p.push({
      path: at("user"),
      message: `${at("user")} must be a user name (lower-case letters, digits, '.', '_', '-'), got ${show(c.user)}`,
    });
  }
  if (
    c.privateKey === undefined ||
    (!isPending(c.privateKey) && (typeof c.privateKey !== "string" || !/PRIVATE KEY-----/.test(c.privateKey)))
  ) {
    p.push({
      path: at("privateKey"),
      message: `${at("privateKey")} must be a private key in OpenSSH or PEM format ("-----BEGIN ... PRIVATE KEY-----"), got ${show(c.privateKey)}`,
    });
  }
  if (!isOpenSshPublicKey(c.hostKey)) {
    p.push({
      path: at("hostKey"),
      message: `${at("hostKey")} must be the target's OpenSSH public key line ("ssh-ed25519 AAAA...", as ssh-keyscan prints it after the host name): the copy refuses any other server, got ${show(c.hostKey)}`,
    });
  }
  if (c.directory !== undefined && !isAbsolutePath(c.directory)) {
    p.push({
      path: at("directory"),
      message: `${at("directory")} must be an absolute path of letters, digits, '.', '_', '-' and '/', got ${show(c.directory)}`,
    });
  }
  if (c.retention !== undefined && !isRetention(c.retention)) {
    p.push({
      path: at("retention"),
      message: `${at("retention")} must be a whole number of snapshots, 1-${MAX_BACKUP_RETENTION}, got ${show(c.retention)}`,
    });
  }
  return p;
}

/**
 * S3's bucket naming rules (general purpose buckets): 3-63 characters of lower-case letters, digits, '.'
 * and '-', a letter or digit at both ends, no "..", not shaped like an IP address, not starting with
 * "xn--" or "sthree-", not ending with "-s3alias" or "--ol-s3".
 */
export function isS3BucketName(v: unknown): v is string {
  return (
    typeof v === "string" &&
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) &&
    !v.includes("..") &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(v) &&
    !/^(xn--|sthree-)/.test(v) &&
    !/(-s3alias|--ol-s3)$/.test(v)
  );
}

/** An AWS region name such as "eu-west-1", "us-gov-west-1" or "ap-southeast-4". */
export function isAwsRegion(v: unknown): v is string {
  return typeof v === "string" && /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v);
}

/** A key prefix: segments of letters, digits, '.', '_', '-' joined by '/', no '..' segment. */
export function isS3Prefix(v: unknown): v is string {
  return (
    typeof v === "string" &&
    v.length <= 512 &&
    /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(v) &&
    v.split("/").every((seg) => seg !== "." && seg !== "..")
  );
}

function s3Problems(s: unknown): Problem[] {
  if (!isObject(s)) {
    return [
      { path: "backup.s3", message: `backup.s3 must be an object with bucket and region, got ${show(s)}` },
    ];
  }
  const p: Problem[] = [];
  if (!isPending(s.bucket) && !isS3BucketName(s.bucket)) {
    p.push({
      path: "backup.s3.bucket",
      message: `backup.s3.bucket must be an S3 bucket name (3-63 lower-case letters, digits, '.' and '-', a letter or digit at both ends, no "..", not an IP address), got ${show(s.bucket)}`,
    });
  }
  if (s.prefix !== undefined && !isS3Prefix(s.prefix)) {
    p.push({
      path: "backup.s3.prefix",
      message: `backup.s3.prefix must be segments of letters, digits, '.', '_' and '-' joined by '/', without a leading or trailing '/' (such as "etcd/prod"), got ${show(s.prefix)}`,
    });
  }
  if (!isPending(s.region) && !isAwsRegion(s.region)) {
    p.push({
      path: "backup.s3.region",
      message: `backup.s3.region must be an AWS region name such as "eu-west-1", got ${show(s.region)}`,
    });
  }
  return p;
}

/** Problems in EtcdClusterArgs.restoreFrom. */
export function restoreProblems(restore: unknown): Problem[] {
  if (restore === undefined) return [];
  if (!isObject(restore)) {
    return [
      {
        path: "restoreFrom",
        message: `restoreFrom must be an object with path and sha256, got ${show(restore)}`,
      },
    ];
  }
  const p: Problem[] = [];
  if (!isAbsolutePath(restore.path)) {
    p.push({
      path: "restoreFrom.path",
      message: `restoreFrom.path must be the snapshot's absolute path on every member (letters, digits, '.', '_', '-' and '/'), got ${show(restore.path)}`,
    });
  }
  if (typeof restore.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(restore.sha256)) {
    p.push({
      path: "restoreFrom.sha256",
      message: `restoreFrom.sha256 must be the snapshot's sha256 (64 lower-case hex digits) so that nothing unverified is restored, got ${show(restore.sha256)}`,
    });
  }
  const bump = restore.bumpRevision;
  if (
    bump !== undefined &&
    !(typeof bump === "number" && Number.isInteger(bump) && bump >= 0 && bump <= 1e15)
  ) {
    p.push({
      path: "restoreFrom.bumpRevision",
      message: `restoreFrom.bumpRevision must be a whole number, 0 (keep the snapshot's revision) to 1e15, got ${show(bump)}`,
    });
  }
  if (restore.force !== undefined && typeof restore.force !== "boolean") {
    p.push({
      path: "restoreFrom.force",
      message: `restoreFrom.force must be true or false, got ${show(restore.force)}`,
    });
  }
  return p;
}

/** A member's turn on a wall-clock schedule: what its backup and defrag timers share. */
export interface MemberSchedule {
  cluster: string;
  name: string;
  /** https://127.0.0.1:<clientPort>: the member's own loopback URL. */
  endpoint: string;
  binDir: string;
  intervalSeconds: number;
  offsetSeconds: number;
  calendar: string;
}

/** Member `index` of `count` every `intervalSeconds`, at its share of the interval (members take turns). */
export function memberSchedule(
  intervalSeconds: number,
  m: { cluster: string; name: string; clientPort: number; binDir: string },
  index: number,
  count: number,
): MemberSchedule {
  const offsetSeconds = memberOffset(intervalSeconds, index, count);
  return {
    cluster: m.cluster,
    name: m.name,
    endpoint: `https://127.0.0.1:${m.clientPort}`,
    binDir: m.binDir,
    intervalSeconds,
    offsetSeconds,
    calendar: calendarSpec(intervalSeconds, offsetSeconds),
  };
}

/** Backup settings of one member, resolved: plain values. Secrets (the SSH key) are not here. */
export interface EtcdBackupSettings extends MemberSchedule {
  retention: number;
  directory: string;
  copyTo?: {
    host: string;
    port: number;
    user: string;
    hostKey: string;
    directory: string;
    retention: number;
  };
  s3?: { bucket: string; prefix: string; region: string };
  /** The recipient's certificate (public). */
  encryptTo?: { certificatePem: string };
}

/** The plain parts of the backup args (the key stays an Input; the certificate is resolved by the caller). */
export function resolveBackup(
  b: EtcdBackupPlainArgs,
  m: { cluster: string; name: string; clientPort: number; binDir: string },
  index: number,
  count: number,
  certificatePem?: string,
): EtcdBackupSettings {
  const retention = b.retention ?? DEFAULT_BACKUP_RETENTION;
  return {
    ...memberSchedule(b.intervalSeconds ?? DEFAULT_BACKUP_INTERVAL_SECONDS, m, index, count),
    retention,
    directory: b.directory ?? DEFAULT_BACKUP_DIR,
    copyTo: b.copyTo && {
      host: b.copyTo.host,
      port: b.copyTo.port ?? 22,
      user: b.copyTo.user,
      hostKey: b.copyTo.hostKey.trim(),
      directory: b.copyTo.directory ?? DEFAULT_COPY_DIR,
      retention: b.copyTo.retention ?? retention,
    },
    s3: b.s3 && { bucket: b.s3.bucket, prefix: b.s3.prefix ?? DEFAULT_S3_PREFIX, region: b.s3.region },
    encryptTo: certificatePem === undefined ? undefined : { certificatePem },
  };
}
