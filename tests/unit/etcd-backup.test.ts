/**
 * EtcdCluster day 2 without hosts: the backup and restore validators, the schedule (wall-clock calendar,
 * members taking turns), the rendered snapshot script, units and install/remove scripts (goldens), the
 * snapshot script run for real in a sandbox with stand-ins for etcdctl, and the component with mocks.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  backupProblems,
  calendarSpec,
  isCalendarInterval,
  memberOffset,
  resolveBackup,
  restoreProblems,
} from "../../components/etcd/backup";
import {
  backupSecretFiles,
  knownHostsLine,
  renderBackupInstallScript,
  renderBackupRemoveScript,
  renderBackupService,
  renderBackupTimer,
  renderSnapshotScript,
} from "../../components/etcd/render/backup";
import { renderRestoreBlock } from "../../components/etcd/render/restore";
import { restoreToken } from "../../components/etcd/settings";
import { shFunctions } from "../../components/shell";
import {
  defragProblems,
  renderDefragInstallScript,
  renderDefragScript,
  renderDefragTimer,
  resolveDefrag,
} from "../../components/etcd/defrag";
import { renderMemberScript } from "../../components/etcd/render/scripts";
import { resolveEtcdCluster } from "../../components/etcd/settings";
import { EtcdCluster } from "../../components/etcd/etcdCluster";
import { validateEtcdClusterArgs } from "../../components/etcd/validate";
import { hosts } from "./helpers/hosts";
import { assertGolden } from "./helpers/golden";
import { isSecretInput, Recorder, unwrap } from "./helpers/mocks";
import { runSh, shSyntaxError, tempDir } from "./helpers/sh";

const SHA = "a".repeat(64);
const SNAP_SHA = "b".repeat(64);
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmUhrTYsgqkmBpF4y8FlmvZsPQ1mpcTcxpDr5vy8Ex7";
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE-CANARY\n-----END OPENSSH PRIVATE KEY-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const COPY = { host: "10.0.0.50", user: "backup", privateKey: KEY, hostKey: HOST_KEY };
const S3 = { bucket: "proj-dev-etcd-backups", region: "eu-west-1" };

const cluster = resolveEtcdCluster("etcd", { members: hosts(3), install: { sha256: SHA } }, "proj-dev-etcd");
const errors = (backup: unknown) => backupProblems(backup).map((p) => `${p.path}: ${p.message}`);

/**
 * A fake etcdctl in `bin`: endpoint health per $FAKE_HEALTH, `snapshot save` writes `bytes` random bytes,
 * `snapshot status` per $FAKE_STATUS (unset: healthy, and a status with revision 42 and 7 keys).
 */
function fakeEtcdctl(bin: string, bytes: number): void {
  fs.writeFileSync(
    path.join(bin, "etcdctl"),
    `#!/bin/sh
for a in "$@"; do last="$a"; done
case "$*" in
  *"endpoint health"*) [ "\${FAKE_HEALTH:-ok}" = ok ] ;;
  *"snapshot save"*) head -c ${bytes} /dev/urandom > "$last" ;;
  *"snapshot status"*) [ "\${FAKE_STATUS:-ok}" = ok ] && echo "1a2b3c4d, 42, 7, ${Math.ceil(bytes / 1000)} kB" || { echo "snapshot file has no hash" >&2; exit 1; } ;;
  *) exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
}

describe("EtcdCluster backups and restore", () => {
  describe("validation", () => {
    it("accepts the defaults, a copy target and encryption", () => {
      assert.deepEqual(errors({}), []);
      assert.deepEqual(
        errors({ intervalSeconds: 20, retention: 3, copyTo: COPY, encryptTo: { certificatePem: CERT } }),
        [],
      );
      assert.deepEqual(
        validateEtcdClusterArgs({
          members: hosts(3),
          install: { sha256: SHA },
          backup: {},
          restoreFrom: { path: "/root/s.db", sha256: SNAP_SHA },
        }),
        { errors: [], warnings: [] },
      );
    });
    it("accepts exactly the intervals a wall-clock calendar can express", () => {
      const ok = [10, 12, 15, 20, 30, 60, 120, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400];
      for (const s of ok) assert.ok(isCalendarInterval(s), `${s}`);
      for (const s of [0, 5, 9, 25, 45, 90, 100, 700, 5400, 36000, 172800, 15.5, -900, NaN]) {
        assert.ok(!isCalendarInterval(s), `${s}`);
      }
    });
    it("names the argument and the value", () => {
      assert.deepEqual(errors({ intervalSeconds: 45 }), [
        "backup.intervalSeconds: backup.intervalSeconds must be whole seconds, at least 10, that divide a minute (10, 12, 15, 20, 30), an hour in whole minutes (60, 120, ..., 900, 1800, 3600) or a day in whole hours (7200, ..., 43200, 86400), got 45",
      ]);
      assert.deepEqual(errors({ retention: 0 }), [
        "backup.retention: backup.retention must be a whole number of snapshots, 1-10000, got 0",
      ]);
      assert.deepEqual(errors({ directory: "backups" }), [
        `backup.directory: backup.directory must be an absolute path of letters, digits, '.', '_', '-' and '/', got "backups"`,
      ]);
      assert.deepEqual(errors("daily"), [
        'backup: backup must be an object (intervalSeconds, retention, directory, copyTo, s3, encryptTo), got "daily"',
      ]);
    });
    it("checks the copy target without ever showing its key", () => {
      const bad = errors({
        copyTo: {
          host: "a b",
          user: "Root;",
          privateKey: "secret-pass",
          hostKey: "10.0.0.50 " + HOST_KEY,
          port: 0,
          directory: "/x/../y",
        },
      });
      assert.deepEqual(bad, [
        'backup.copyTo.host: backup.copyTo.host must be an IP address or DNS name, got "a b"',
        "backup.copyTo.port: backup.copyTo.port must be a port number 1-65535, got 0",
        `backup.copyTo.user: backup.copyTo.user must be a user name (lower-case letters, digits, '.', '_', '-'), got "Root;"`,
        'backup.copyTo.privateKey: backup.copyTo.privateKey must be a private key in OpenSSH or PEM format ("-----BEGIN ... PRIVATE KEY-----"), got "secret-pass"',
        `backup.copyTo.hostKey: backup.copyTo.hostKey must be the target's OpenSSH public key line ("ssh-ed25519 AAAA...", as ssh-keyscan prints it after the host name): the copy refuses any other server, got "10.0.0.50 ${HOST_KEY}"`,
        `backup.copyTo.directory: backup.copyTo.directory must be an absolute path of letters, digits, '.', '_', '-' and '/', got "/x/../y"`,
      ]);
      const withKey = errors({ copyTo: { ...COPY, hostKey: KEY } }).join("\n");
      assert.ok(!withKey.includes("CANARY"), withKey);
    });
    it("refuses encryption without a copy and a recipient that is no certificate", () => {
      assert.deepEqual(errors({ encryptTo: { certificatePem: KEY } }), [
        `backup.encryptTo.certificatePem: backup.encryptTo.certificatePem must be a PEM certificate ("-----BEGIN CERTIFICATE-----"), got a string of ${KEY.length} characters (not shown)`,
        "backup.encryptTo: backup.encryptTo encrypts the copies that leave the host, so it needs backup.copyTo or backup.s3, got neither",
      ]);
      assert.deepEqual(errors({ s3: S3, encryptTo: { certificatePem: CERT } }), []);
    });
    it("checks the S3 bucket, prefix and region", () => {
      assert.deepEqual(errors({ s3: S3 }), []);
      assert.deepEqual(errors({ s3: { ...S3, prefix: "etcd/prod-1" } }), []);
      assert.deepEqual(errors({ s3: { bucket: "a.b-c", region: "us-gov-west-1" } }), []);
      const bucket = (b: unknown) => errors({ s3: { ...S3, bucket: b } });
      for (const b of [
        "ab",
        "a".repeat(64),
        "Etcd",
        "etcd_b",
        "-etcd",
        "etcd-",
        "a..b",
        "192.168.1.1",
        "xn--etcd",
        "etcd-s3alias",
        undefined,
      ]) {
        assert.deepEqual(bucket(b), [
          `backup.s3.bucket: backup.s3.bucket must be an S3 bucket name (3-63 lower-case letters, digits, '.' and '-', a letter or digit at both ends, no "..", not an IP address), got ${b === undefined ? "undefined" : JSON.stringify(b)}`,
        ]);
      }
      for (const pr of ["/etcd", "etcd/", "a//b", "a/../b", "..", "a b", ""]) {
        assert.deepEqual(errors({ s3: { ...S3, prefix: pr } }), [
          `backup.s3.prefix: backup.s3.prefix must be segments of letters, digits, '.', '_' and '-' joined by '/', without a leading or trailing '/' (such as "etcd/prod"), got ${JSON.stringify(pr)}`,
        ]);
      }
      for (const r of ["eu-west-1a", "EU-WEST-1", "euwest1", "s3.eu-west-1", ""]) {
        assert.deepEqual(errors({ s3: { ...S3, region: r } }), [
          `backup.s3.region: backup.s3.region must be an AWS region name such as "eu-west-1", got ${JSON.stringify(r)}`,
        ]);
      }
      assert.deepEqual(errors({ s3: "s3://etcd-backups" }), [
        'backup.s3: backup.s3 must be an object with bucket and region, got "s3://etcd-backups"',
      ]);
    });
    it("checks restoreFrom", () => {
      assert.deepEqual(
        restoreProblems({ path: "snap.db", sha256: "B".repeat(64), force: "yes" }).map((p) => p.message),
        [
          `restoreFrom.path must be the snapshot's absolute path on every member (letters, digits, '.', '_', '-' and '/'), got "snap.db"`,
          `restoreFrom.sha256 must be the snapshot's sha256 (64 lower-case hex digits) so that nothing unverified is restored, got "${"B".repeat(64)}"`,
          'restoreFrom.force must be true or false, got "yes"',
        ],
      );
      assert.deepEqual(
        restoreProblems({ path: "/root/s.db", sha256: SNAP_SHA, bumpRevision: -1 }).map((p) => p.message),
        ["restoreFrom.bumpRevision must be a whole number, 0 (keep the snapshot's revision) to 1e15, got -1"],
      );
    });
  });

  describe("schedule", () => {
    it("writes the calendar for every kind of interval", () => {
      assert.equal(calendarSpec(20, 6), "*-*-* *:*:06/20");
      assert.equal(calendarSpec(900, 300), "*-*-* *:05/15:00");
      assert.equal(calendarSpec(900, 0), "*-*-* *:00/15:00");
      assert.equal(calendarSpec(3600, 1200), "*-*-* *:20:00");
      assert.equal(calendarSpec(21600, 7200), "*-*-* 02/6:00:00");
      assert.equal(calendarSpec(86400, 28800), "*-*-* 08:00:00");
      assert.throws(() => calendarSpec(20, 20), /bad offset/);
    });
    it("spreads the members over the interval", () => {
      assert.deepEqual(
        [0, 1, 2].map((i) => memberOffset(900, i, 3)),
        [0, 300, 600],
      );
      assert.deepEqual(
        [0, 1, 2, 3, 4].map((i) => memberOffset(20, i, 5)),
        [0, 4, 8, 12, 16],
      );
    });
    it("gives calendars that systemd reads as meant (systemd-analyze, where installed)", function () {
      const probe = spawnSync("systemd-analyze", ["calendar", "--iterations=3", calendarSpec(900, 300)], {
        encoding: "utf8",
      });
      if (probe.error) this.skip();
      // Every interval the validator accepts, at every member offset of 3 and 5 members, parses.
      for (const interval of [
        10, 12, 15, 20, 30, 60, 120, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
      ]) {
        for (const n of [3, 5]) {
          for (let i = 0; i < n; i++) {
            const spec = calendarSpec(interval, memberOffset(interval, i, n));
            const r = spawnSync("systemd-analyze", ["calendar", spec], { encoding: "utf8" });
            assert.equal(r.status, 0, `${spec}: ${r.stderr}`);
          }
        }
      }
      const times = [...probe.stdout.matchAll(/(\d\d):(\d\d):(\d\d) UTC/g)].map((m) => `${m[2]}:${m[3]}`);
      assert.equal(times.length, 3, probe.stdout);
      for (const t of times) assert.ok(["05:00", "20:00", "35:00", "50:00"].includes(t), t);
    });
  });

  describe("renderers", () => {
    const full = resolveBackup(
      { intervalSeconds: 900, copyTo: { ...COPY, retention: 10 }, encryptTo: { certificatePem: CERT } },
      cluster.members[1],
      1,
      3,
      CERT,
    );
    const local = resolveBackup({}, cluster.members[0], 0, 3);
    const s3 = resolveBackup(
      { s3: { ...S3, prefix: "etcd/prod" }, encryptTo: { certificatePem: CERT } },
      cluster.members[0],
      0,
      3,
      CERT,
    );
    it("match the golden files", () => {
      assertGolden("etcd/backup/snapshot-s3-m1.sh", renderSnapshotScript(s3));
      assertGolden("etcd/backup/install-s3-m1.sh", renderBackupInstallScript(s3));
      assertGolden("etcd/backup/snapshot-m2.sh", renderSnapshotScript(full));
      assertGolden("etcd/backup/etcd-backup.service", renderBackupService(full));
      assertGolden("etcd/backup/etcd-backup-m2.timer", renderBackupTimer(full));
      assertGolden("etcd/backup/install-m2.sh", renderBackupInstallScript(full));
      assertGolden("etcd/backup/install-local-m1.sh", renderBackupInstallScript(local));
      assertGolden("etcd/backup/remove-m1.sh", renderBackupRemoveScript(local));
      const restoring = resolveEtcdCluster(
        "etcd",
        {
          members: hosts(3),
          install: { sha256: SHA },
          restoreFrom: { path: "/root/s.db", sha256: SNAP_SHA },
        },
        "proj-dev-etcd",
      );
      assertGolden("etcd/backup/member-restore-m1.sh", renderMemberScript(restoring.members[0]));
    });
    it("are valid POSIX sh", () => {
      for (const s of [
        renderSnapshotScript(full),
        renderBackupInstallScript(full),
        renderBackupRemoveScript(local),
        renderSnapshotScript(s3),
        renderBackupInstallScript(s3),
      ]) {
        assert.equal(shSyntaxError(s), undefined);
      }
    });
    it("defaults: every 15 min, 5 kept, /var/backups/etcd", () => {
      assert.equal(local.calendar, "*-*-* *:00/15:00");
      assert.equal(local.retention, 5);
      assert.equal(local.directory, "/var/backups/etcd");
      assert.equal(local.endpoint, "https://127.0.0.1:2379");
    });
    it("pins the copy target's host key and keeps the private key off every script", () => {
      assert.equal(knownHostsLine(full.copyTo!), `10.0.0.50 ${HOST_KEY}\n`);
      assert.equal(knownHostsLine({ ...full.copyTo!, port: 2222 }), `[10.0.0.50]:2222 ${HOST_KEY}\n`);
      for (const s of [renderSnapshotScript(full), renderBackupInstallScript(full)])
        assert.ok(!s.includes("CANARY"));
      assert.deepEqual(
        backupSecretFiles(KEY).map((f) => [f.path, f.mode, f.owner]),
        [["/etc/etcd/backup/ssh-key", "0600", "root:root"]],
      );
      assert.deepEqual(backupSecretFiles(undefined), []);
    });
    it("uploads to S3 with the instance role only: no credential anywhere, the AWS CLI installed from the OS", () => {
      assert.deepEqual(s3.s3, { bucket: "proj-dev-etcd-backups", prefix: "etcd/prod", region: "eu-west-1" });
      assert.equal(resolveBackup({ s3: S3 }, cluster.members[0], 0, 3).s3?.prefix, "etcd");
      assert.equal(local.s3, undefined);
      const snap = renderSnapshotScript(s3);
      const install = renderBackupInstallScript(s3);
      for (const t of [snap, install])
        assert.doesNotMatch(
          t,
          /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|--profile|aws configure/i,
        );
      assert.match(install, /command -v aws >\/dev\/null 2>&1 \|\| install_packages awscli/);
      assert.match(install, /^install_packages\(\) \{/m);
      assert.doesNotMatch(renderBackupInstallScript(local), /awscli|install_packages/);
      assert.match(snap, /^S3_BUCKET='proj-dev-etcd-backups'$/m);
    });
    it("restores with a token of its own, so the restored cluster's ID is new", () => {
      assert.equal(restoreToken("proj-dev-etcd", SNAP_SHA), "proj-dev-etcd-restore-bbbbbbbbbbbb");
    });
  });

  describe("the snapshot script, run with stand-ins for etcdctl", () => {
    function sandbox() {
      const dir = tempDir("backup");
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      fakeEtcdctl(bin, 4096);
      const s = resolveBackup(
        { intervalSeconds: 10, retention: 2, directory: path.join(dir, "backups") },
        { ...cluster.members[0], binDir: bin },
        0,
        3,
      );
      // Run as the current user (not root): install -o root is not possible for everyone, drop the owner.
      const script = renderSnapshotScript(s).replace(
        "install -d -m 0700 -o root -g root",
        "install -d -m 0700",
      );
      return { dir, backups: path.join(dir, "backups"), script };
    }
    it("writes a verified snapshot with its sha256, 0600 in 0700, and keeps only the newest", () => {
      const { backups, script } = sandbox();
      for (let i = 0; i < 3; i++) {
        const r = runSh(script);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /snapshot .*: revision 42, 7 keys, sha256 [0-9a-f]{64}/);
        if (i < 2) spawnSync("sleep", ["1.1"]);
      }
      const files = fs.readdirSync(backups).sort();
      assert.equal(files.filter((f) => f.endsWith(".db")).length, 2, files.join(" "));
      assert.equal(files.filter((f) => f.endsWith(".db.sha256")).length, 2, files.join(" "));
      assert.equal(fs.statSync(backups).mode & 0o777, 0o700);
      for (const f of files) assert.equal(fs.statSync(path.join(backups, f)).mode & 0o777, 0o600, f);
      const check = spawnSync("sha256sum", ["-c", ...files.filter((f) => f.endsWith(".sha256"))], {
        cwd: backups,
        encoding: "utf8",
      });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    });
    it("fails, and keeps nothing, when the member is unhealthy or the snapshot does not verify", () => {
      const { backups, script } = sandbox();
      const unhealthy = runSh(script, { env: { FAKE_HEALTH: "down" } });
      assert.equal(unhealthy.code, 1);
      assert.match(unhealthy.stderr, /is not healthy at https:\/\/127\.0\.0\.1:2379: no snapshot taken/);
      const corrupt = runSh(script, { env: { FAKE_STATUS: "bad" } });
      assert.equal(corrupt.code, 1);
      assert.match(corrupt.stderr, /snapshot status refused .*snapshot file has no hash/);
      assert.deepEqual(fs.readdirSync(backups), [], "no snapshot and no temporary file left");
    });
  });

  describe("the snapshot script's S3 upload, run with a stand-in for the AWS CLI", () => {
    /**
     * A fake `aws` first on PATH: a bucket is a directory. put-object checks Content-MD5 as S3 does
     * (BadDigest), stores the body and its sha256 metadata; head-object prints length and sha256 as
     * `--query '[ContentLength, Metadata.sha256]' --output text` does. FAKE_S3 picks a fault: "deny"
     * (AccessDenied on put), "lose" (put succeeds, the object is not there), "shorten" (the stored
     * object differs from the body), "md5" (a Content-MD5 mismatch as if the body changed in transit).
     */
    const FAKE_AWS = `#!/bin/sh
printf '%s\\n' "$*" >> "$S3_ROOT/calls"
while [ $# -gt 0 ]; do
  case "$1" in
    --region) region=$2; shift 2 ;;
    s3api) op=$2; shift 2 ;;
    --bucket) bucket=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --body) body=$2; shift 2 ;;
    --content-md5) md5=$2; shift 2 ;;
    --metadata) meta=$2; shift 2 ;;
    --query|--output) shift 2 ;;
    *) echo "fake aws: unexpected argument $1" >&2; exit 2 ;;
  esac
done
[ "$region" = eu-west-1 ] || { echo "fake aws: region $region" >&2; exit 2; }
obj="$S3_ROOT/$bucket/$key"
case "$op" in
  put-object)
    [ "\${FAKE_S3:-}" != deny ] || { echo "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied" >&2; exit 254; }
    real=$(openssl dgst -md5 -binary "$body" | base64)
    [ "\${FAKE_S3:-}" != md5 ] || real=x
    [ "$real" = "$md5" ] || { echo "An error occurred (BadDigest) when calling the PutObject operation: The Content-MD5 you specified did not match what we received." >&2; exit 254; }
    [ "\${FAKE_S3:-}" != lose ] || { echo '"etag"'; exit 0; }
    mkdir -p "$(dirname "$obj")" && cp "$body" "$obj" && printf '%s\\n' "\${meta#sha256=}" > "$obj.meta"
    [ "\${FAKE_S3:-}" != shorten ] || truncate -s 100 "$obj"
    echo '"etag"' ;;
  head-object)
    [ -f "$obj" ] || { echo "An error occurred (404) when calling the HeadObject operation: Not Found" >&2; exit 254; }
    printf '%s\\t%s\\n' "$(wc -c < "$obj" | tr -d ' ')" "$(cat "$obj.meta")" ;;
  *) echo "fake aws: operation $op" >&2; exit 2 ;;
esac
`;
    function sandbox(encrypt: boolean) {
      const dir = tempDir("backup-s3");
      const bin = path.join(dir, "bin");
      const s3root = path.join(dir, "s3");
      fs.mkdirSync(bin);
      fs.mkdirSync(s3root);
      fakeEtcdctl(bin, 200000);
      fs.writeFileSync(path.join(bin, "aws"), FAKE_AWS, { mode: 0o755 });
      let certificatePem: string | undefined;
      if (encrypt) {
        const r = spawnSync(
          "openssl",
          [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=backup",
            "-days",
            "1",
          ],
          { cwd: dir, encoding: "utf8" },
        );
        assert.equal(r.status, 0, r.stderr);
        certificatePem = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
      }
      const s = resolveBackup(
        {
          intervalSeconds: 10,
          directory: path.join(dir, "backups"),
          s3: { ...S3, prefix: "etcd/prod" },
          encryptTo: certificatePem === undefined ? undefined : { certificatePem },
        },
        { ...cluster.members[0], binDir: bin },
        0,
        3,
        certificatePem,
      );
      const script = renderSnapshotScript(s)
        .replace("install -d -m 0700 -o root -g root", "install -d -m 0700")
        .replace("/etc/etcd/backup/recipient.pem", path.join(dir, "cert.pem"));
      const run = (fault?: string, pathRest = process.env.PATH) =>
        runSh(script, { env: { PATH: `${bin}:${pathRest}`, S3_ROOT: s3root, FAKE_S3: fault ?? "" } });
      const bucket = path.join(s3root, S3.bucket, "etcd", "prod");
      return { dir, backups: path.join(dir, "backups"), bucket, s3root, run };
    }
    const md5 = (file: string) => crypto.createHash("md5").update(fs.readFileSync(file)).digest("base64");

    it("uploads the verified snapshot and its sha256, with a Content-MD5 S3 checks, and the instance role's credentials", () => {
      const { backups, bucket, s3root, run } = sandbox(false);
      const r = run();
      assert.equal(r.code, 0, r.stderr);
      const local = fs.readdirSync(backups).filter((f) => f.endsWith(".db"));
      assert.equal(local.length, 1);
      const name = local[0];
      assert.deepEqual(
        fs
          .readdirSync(bucket)
          .filter((f) => !f.endsWith(".meta"))
          .sort(),
        [name, `${name}.sha256`],
      );
      assert.deepEqual(fs.readFileSync(path.join(bucket, name)), fs.readFileSync(path.join(backups, name)));
      const check = spawnSync("sha256sum", ["-c", `${name}.sha256`], { cwd: bucket, encoding: "utf8" });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(
        r.stdout,
        new RegExp(`uploaded to s3://${S3.bucket}/etcd/prod/${name} \\(sha256 [0-9a-f]{64}`),
      );
      const calls = fs.readFileSync(path.join(s3root, "calls"), "utf8").trim().split("\n");
      assert.deepEqual(
        calls.map((c) => c.split(" ").slice(0, 4).join(" ")),
        [
          "--region eu-west-1 s3api put-object",
          "--region eu-west-1 s3api head-object",
          "--region eu-west-1 s3api put-object",
          "--region eu-west-1 s3api head-object",
        ],
      );
      // The shell's MD5 (md5sum, hex to base64 by awk and printf) is the real one.
      assert.ok(calls[0].includes(`--content-md5 ${md5(path.join(backups, name))} `), calls[0]);
      for (const c of calls) assert.doesNotMatch(c, /key-id|secret|token|profile/i);
    });
    it("uploads the encrypted copy, with the sha256 of the copy and of the plain snapshot", () => {
      const { dir, backups, bucket, run } = sandbox(true);
      const r = run();
      assert.equal(r.code, 0, r.stderr);
      const name = fs.readdirSync(backups).filter((f) => f.endsWith(".db"))[0];
      assert.deepEqual(
        fs
          .readdirSync(bucket)
          .filter((f) => !f.endsWith(".meta"))
          .sort(),
        [name, `${name}.cms`, `${name}.cms.sha256`].map((f) => (f === name ? `${name}.sha256` : f)).sort(),
      );
      const check = spawnSync("sha256sum", ["-c", `${name}.cms.sha256`], { cwd: bucket, encoding: "utf8" });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      const dec = spawnSync(
        "openssl",
        [
          "cms",
          "-decrypt",
          "-inform",
          "DER",
          "-in",
          path.join(bucket, `${name}.cms`),
          "-inkey",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, name),
        ],
        { encoding: "utf8" },
      );
      assert.equal(dec.status, 0, dec.stderr);
      const plain = spawnSync("sha256sum", ["-c", path.join(bucket, `${name}.sha256`)], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(plain.status, 0, plain.stdout + plain.stderr);
    });
    it("fails the unit loudly when the upload is refused, lost, altered or corrupted in transit", () => {
      const cases: Array<[string, RegExp]> = [
        ["deny", /upload to s3:\/\/proj-dev-etcd-backups\/etcd\/prod\/etcd-.*\.db failed: .*AccessDenied/],
        ["md5", /upload to s3:\/\/.*failed: .*BadDigest/],
        ["lose", /s3:\/\/.*\.db cannot be read back after its upload: .*Not Found/],
        [
          "shorten",
          /s3:\/\/.*\.db shows length and sha256 '100\t[0-9a-f]{64}', expected '200000 [0-9a-f]{64}'/,
        ],
      ];
      for (const [fault, message] of cases) {
        const { backups, run } = sandbox(false);
        const r = run(fault);
        assert.equal(r.code, 1, `${fault}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, message, fault);
        // The local snapshot stays, verified: only the copy failed.
        assert.equal(fs.readdirSync(backups).filter((f) => f.endsWith(".db")).length, 1, fault);
      }
    });
    it("fails when the AWS CLI is missing", () => {
      const { dir, s3root, run } = sandbox(false);
      fs.rmSync(path.join(dir, "bin", "aws"));
      const withoutAws = (process.env.PATH ?? "")
        .split(":")
        .filter((d) => d !== "" && !fs.existsSync(path.join(d, "aws")))
        .join(":");
      const r = run(undefined, withoutAws);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /the AWS CLI \(aws\) is not installed: backup\.s3 needs it/);
      assert.ok(!fs.existsSync(path.join(s3root, "calls")));
    });
  });

  describe("EtcdCluster (mocks)", () => {
    it("installs the snapshot timer on every member after the health gate, the copy key secret on stdin", async () => {
      const rec = new Recorder();
      await rec.install();
      new EtcdCluster("etcd", {
        members: hosts(3),
        install: { sha256: SHA },
        backup: { copyTo: COPY, encryptTo: { certificatePem: CERT } },
      });
      await rec.idle();
      for (const m of ["m1", "m2", "m3"]) {
        const r = rec.get(`etcd-${m}-backup`);
        assert.ok(rec.dependsOn(`etcd-${m}-backup`, "etcd-health"));
        assert.ok(isSecretInput(r.inputs.stdin), "the copy key travels as a secret");
        const i = unwrap(r.inputs) as Record<string, string>;
        assert.match(i.create, /put \/etc\/systemd\/system\/etcd-backup\.timer/);
        assert.match(i.create, /systemctl enable --now --quiet etcd-backup\.timer/);
        assert.equal(i.update, i.create);
        assert.match(i.delete, /systemctl disable --now --quiet etcd-backup\.timer/);
        assert.ok(!i.create.includes("CANARY") && !i.delete.includes("CANARY"));
        assert.ok(Buffer.from(i.stdin.split(" ")[3], "base64").toString().includes("CANARY"));
        assert.equal(i.logging, "stderr");
      }
      assert.match(
        String((unwrap(rec.get("etcd-m2-backup").inputs) as Record<string, string>).create),
        /OnCalendar=\*-\*-\* \*:05\/15:00/,
      );
    });
    it("takes the bucket and its region as Outputs (an aws.s3.Bucket's), the script gets them known", async () => {
      const rec = new Recorder();
      await rec.install();
      new EtcdCluster("etcd", {
        members: hosts(3),
        install: { sha256: SHA },
        backup: { s3: { bucket: pulumi.output(S3.bucket), region: pulumi.output(S3.region) } },
      });
      await rec.idle();
      for (const m of ["m1", "m2", "m3"]) {
        const i = unwrap(rec.get(`etcd-${m}-backup`).inputs) as Record<string, string>;
        assert.match(i.create, /^S3_BUCKET='proj-dev-etcd-backups'$/m);
        assert.match(i.create, /^S3_PREFIX='etcd'$/m);
        assert.match(i.create, /^S3_REGION='eu-west-1'$/m);
        assert.match(i.create, /command -v aws >\/dev\/null 2>&1 \|\| install_packages awscli/);
      }
    });
    it("creates no backup step without backup, and restores through the member script", async () => {
      const rec = new Recorder();
      await rec.install();
      new EtcdCluster("etcd", {
        members: hosts(3),
        install: { sha256: SHA },
        restoreFrom: { path: "/root/s.db", sha256: SNAP_SHA },
      });
      await rec.idle();
      assert.deepEqual(
        rec.names().filter((n) => n.endsWith("-backup")),
        [],
      );
      const member = unwrap(rec.get("etcd-m1-member").inputs) as Record<string, string>;
      assert.match(member.create, /snapshot restore "\$RESTORE_FILE" --name "\$NAME"/);
      assert.match(member.create, /RESTORE_TOKEN='hakube-test-test-etcd-restore-bbbbbbbbbbbb'/);
    });
  });
});

describe("EtcdCluster quorum recovery", () => {
  const withRecovery = (from: string) =>
    resolveEtcdCluster(
      "etcd",
      { members: hosts(3), install: { sha256: SHA }, recoverQuorum: { from, id: "2026-12-07" } },
      "proj-dev-etcd",
    );
  it("validates recoverQuorum, warns while it is set, and refuses it with restoreFrom", () => {
    const v = (over: Record<string, unknown>) =>
      validateEtcdClusterArgs({ members: hosts(3), install: { sha256: SHA }, ...over });
    assert.deepEqual(v({ recoverQuorum: { from: "m2" } }), {
      errors: [],
      warnings: [
        {
          path: "recoverQuorum",
          message:
            'recoverQuorum is set (from "m2"): members without quorum are recovered from m2\'s data; remove it once the cluster is healthy',
        },
      ],
    });
    assert.deepEqual(
      v({
        recoverQuorum: { from: "m9", id: "a b" },
        restoreFrom: { path: "/root/s.db", sha256: SNAP_SHA },
      }).errors.map((e) => e.message),
      [
        'recoverQuorum.from must name one of the members (m1, m2, m3), the survivor whose data is kept, got "m9"',
        "recoverQuorum.id must be 1-64 letters, digits, '.', '_' or '-', got \"a b\"",
        "recoverQuorum and restoreFrom exclude each other: recover from a surviving member's data, or restore every member from a snapshot, got both",
      ],
    );
  });
  it("renders the survivor's and the others' member scripts (goldens, POSIX sh)", () => {
    const r = withRecovery("m2");
    assert.equal(r.members[0].recovery?.fromUrl, "https://10.0.0.12:2379");
    assertGolden("etcd/backup/member-recover-m2.sh", renderMemberScript(r.members[1]));
    for (const m of r.members) assert.equal(shSyntaxError(renderMemberScript(m)), undefined);
  });
  it("runs the survivor's member step first, the others after it one at a time", async () => {
    const rec = new Recorder();
    await rec.install(10);
    new EtcdCluster("etcd", { members: hosts(3), install: { sha256: SHA }, recoverQuorum: { from: "m3" } });
    await rec.idle();
    assert.ok(rec.dependsOn("etcd-m1-member", "etcd-m3-member"));
    assert.ok(rec.dependsOn("etcd-m2-member", "etcd-m1-member"));
    assert.ok(!rec.dependsOn("etcd-m3-member", "etcd-m1-member"));
    assert.ok(rec.dependsOn("etcd-health", "etcd-m2-member"));
  });
});

describe("the restore block, run with stand-ins for etcdutl and systemd", () => {
  /** etcdutl that records its arguments and writes a data dir; its --help lists --bump-revision if $BUMP. */
  function run(opts: { bumpSupported: boolean; bumpRevision?: number; data?: boolean; sha?: string }) {
    const dir = tempDir("restore");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const snap = path.join(dir, "snap.db");
    fs.writeFileSync(snap, "snapshot bytes");
    const sha = spawnSync("sha256sum", [snap], { encoding: "utf8" }).stdout.split(" ")[0];
    fs.writeFileSync(
      path.join(bin, "etcdutl"),
      `#!/bin/sh
case "$*" in
  *--help*) echo "  --data-dir string"; ${opts.bumpSupported ? 'echo "  --bump-revision uint"' : ":"} ;;
  *) echo "$*" > "${dir}/args"; for a in "$@"; do [ "$prev" = --data-dir ] && mkdir -p "$a/member/snap"; prev=$a; done ;;
esac
`,
      { mode: 0o755 },
    );
    const r = resolveEtcdCluster(
      "etcd",
      {
        members: hosts(3),
        install: { sha256: SHA, binDir: bin },
        dataDir: path.join(dir, "data"),
        restoreFrom: { path: snap, sha256: opts.sha ?? sha, bumpRevision: opts.bumpRevision },
      },
      "proj-dev-etcd",
    );
    if (opts.data) fs.mkdirSync(path.join(dir, "data", "member"), { recursive: true });
    const m = { ...r.members[0], restore: { ...r.members[0].restore! } };
    const script = [
      "set -eu",
      shFunctions("t"),
      `NAME=m1 PEER_URL=https://10.0.0.11:2380 DATA_DIR=${dir}/data ETCDCTL=${bin}/etcdctl ROSTER=${dir}/roster`,
      `printf 'm1 https://10.0.0.11:2380 x\\nm2 https://10.0.0.12:2380 y\\n' > ${dir}/roster`,
      'systemctl() { :; }; chown() { :; }; install() { for a; do l=$a; done; mkdir -p "$l"; }',
      'start_etcd() { echo started; }; write_cluster_env() { echo "cluster $1 $2"; }',
      renderRestoreBlock(m).replace(/\/etc\/etcd\/restored-from/, `${dir}/restored-from`),
    ].join("\n");
    return { dir, res: runSh(script), args: () => fs.readFileSync(path.join(dir, "args"), "utf8") };
  }
  it("restores with the new membership and token, bumping the revision where etcdutl can", () => {
    const { dir, res, args } = run({ bumpSupported: true });
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      args(),
      /--name m1 --initial-cluster m1=https:\/\/10\.0\.0\.11:2380,m2=https:\/\/10\.0\.0\.12:2380 --initial-cluster-token proj-dev-etcd-restore-\S+ /,
    );
    assert.match(args(), / --bump-revision 1000000000 --mark-compacted$/m);
    assert.ok(fs.existsSync(path.join(dir, "data", "member", "snap")));
    assert.match(res.stdout, /started/);
  });
  it("keeps the revision where etcdutl cannot bump it, or when told", () => {
    assert.doesNotMatch(run({ bumpSupported: false }).args(), /bump/);
    assert.doesNotMatch(run({ bumpSupported: true, bumpRevision: 0 }).args(), /bump/);
  });
  it("refuses a wrong sha256 and a member with data, restoring nothing", () => {
    const wrong = run({ bumpSupported: true, sha: "c".repeat(64) });
    assert.equal(wrong.res.code, 1);
    assert.match(wrong.res.stderr, /has sha256 \S+, expected c{64}: nothing was restored/);
    const data = run({ bumpSupported: true, data: true });
    assert.equal(data.res.code, 1);
    assert.match(data.res.stderr, /refusing to restore .*: m1 already has data/);
    for (const r of [wrong, data]) assert.ok(!fs.existsSync(path.join(r.dir, "args")), "etcdutl never ran");
  });
});

describe("EtcdCluster scheduled defragmentation", () => {
  it("validates the interval like the snapshots'", () => {
    assert.deepEqual(defragProblems({ intervalSeconds: 86400 }), []);
    assert.deepEqual(
      defragProblems({ intervalSeconds: 100 }).map((p) => p.message),
      [
        "defrag.intervalSeconds must be whole seconds, at least 10, that divide a minute, an hour in whole minutes or a day in whole hours (such as 3600, 21600, 86400), got 100",
      ],
    );
  });
  it("renders daily by default, members 8 h apart, only while every member is healthy (goldens)", () => {
    const d = resolveDefrag({}, cluster.members[1], 1, 3);
    assert.equal(d.calendar, "*-*-* 08:00:00");
    assertGolden("etcd/defrag/defrag-m2.sh", renderDefragScript(d));
    assertGolden("etcd/defrag/etcd-defrag-m2.timer", renderDefragTimer(d));
    assertGolden("etcd/defrag/install-m2.sh", renderDefragInstallScript(d));
    assert.match(renderDefragScript(d), /endpoint health .*\|\| fail "not every member is healthy/);
    assert.equal(shSyntaxError(renderDefragInstallScript(d)), undefined);
  });
  it("installs a defrag step per member after the health gate (mocks)", async () => {
    const rec = new Recorder();
    await rec.install();
    new EtcdCluster("etcd", { members: hosts(3), install: { sha256: SHA }, defrag: {} });
    await rec.idle();
    assert.deepEqual(
      rec.names().filter((n) => n.endsWith("-defrag")),
      ["etcd-m1-defrag", "etcd-m2-defrag", "etcd-m3-defrag"],
    );
    for (const m of ["m1", "m2", "m3"]) assert.ok(rec.dependsOn(`etcd-${m}-defrag`, "etcd-health"));
  });
});
