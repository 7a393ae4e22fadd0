/**
 * Pure renderers for EtcdCluster's scheduled snapshots: the snapshot script each member's timer runs, the
 * systemd service and timer, and the scripts that install and remove them. No Pulumi import.
 *
 * A snapshot, on one member (etcd-backup.service, root, every run or nothing):
 * 1. the local member must be healthy (else the unit fails: no snapshot of a member that lags or is cut off);
 * 2. `etcdctl snapshot save` from the local member's loopback URL to a hidden temporary file (mode 0600,
 *    directory 0700);
 * 3. verified with `etcdutl snapshot status` (3.5+) or `etcdctl snapshot status` (3.4): revision and keys;
 * 4. its sha256 written beside it (`<file>.sha256`, `sha256sum -c` format), then the snapshot renamed into
 *    place: a `.db` file in the directory is a complete, verified snapshot;
 * 5. retention: only the newest N of this member's snapshots are kept;
 * 6. with copyTo: encrypted to the recipient certificate if asked (`openssl cms`), sent over SSH (pinned
 *    host key, key file 0600) to a hidden name, its sha256 computed there and compared, the sha256 files
 *    written (of the copy, and of the plain snapshot when encrypted), then renamed into place; then the
 *    target's own retention.
 * 7. with s3 (before the SSH copy): the same file (encrypted if asked) uploaded with `aws s3api put-object`
 *    and its Content-MD5, so that S3 itself refuses a body that differs from the file (BadDigest); then
 *    `head-object` must show the object with the file's length and the sha256 sent as its metadata (the
 *    ETag is no MD5 under SSE-KMS, so it is not compared); the sha256 files uploaded the same way. A put
 *    is atomic: an object is there complete or not at all. Credentials: the instance role only.
 * Any failing step exits non-zero: the unit is `failed` (`systemctl --failed`, `journalctl -u etcd-backup`).
 */
import { heredoc, HostFile, shAssignments, shFunctions, SH_PUT_BUNDLE_FROM_STDIN } from "../../shell";
import {
  BACKUP_CONFIG_DIR,
  BACKUP_KEY_FILE,
  BACKUP_KNOWN_HOSTS,
  BACKUP_RECIPIENT_FILE,
  BACKUP_SCRIPT,
  BACKUP_SERVICE,
  BACKUP_SERVICE_FILE,
  BACKUP_TIMER,
  BACKUP_TIMER_FILE,
  EtcdBackupSettings,
  MemberSchedule,
} from "../backup";
import { PKI_FILES } from "./config";
import { SH_INSTALL_PACKAGES } from "../../packages";

/** The cluster's name as it appears in file names: letters, digits, '.', '_' and '-' only. */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "-");
}

/** Snapshot files of a member start with this: `etcd-<cluster>-<member>-<UTC time>.db`. */
export function snapshotPrefix(s: Pick<EtcdBackupSettings, "cluster" | "name">): string {
  return `etcd-${fileSafe(s.cluster)}-${s.name}-`;
}

/** The known_hosts line that pins the copy target's host key. */
export function knownHostsLine(c: NonNullable<EtcdBackupSettings["copyTo"]>): string {
  const host = c.port === 22 ? c.host : `[${c.host}]:${c.port}`;
  return `${host} ${c.hostKey.split(/\s+/).slice(0, 2).join(" ")}\n`;
}

const SH_SNAPSHOT = `umask 077
ctl() { ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ENDPOINT" --cacert=${PKI_FILES.ca} --cert=${PKI_FILES.serverCert} --key=${PKI_FILES.serverKey} --dial-timeout=3s "$@"; }
install -d -m 0700 -o root -g root "$DIR"
ctl --command-timeout=5s endpoint health >/dev/null 2>&1 || fail "the local member $NAME is not healthy at $ENDPOINT: no snapshot taken"
base="$PREFIX$(date -u +%Y%m%dT%H%M%SZ).db"
tmp="$DIR/.$base.part"
trap 'rm -f "$tmp" "$tmp.sha256" "$tmp.cms" "$tmp.up"' EXIT
out=$(ctl --command-timeout="$SAVE_TIMEOUT" snapshot save "$tmp" 2>&1) || fail "etcdctl snapshot save failed: $out"
chmod 0600 "$tmp"
# Verify: a snapshot that cannot be read back is no backup. etcdutl (3.5+) or etcdctl (3.4).
if [ -x "$ETCDUTL" ]; then tool=$ETCDUTL; else tool=$ETCDCTL; fi
st=$(ETCDCTL_API=3 "$tool" snapshot status "$tmp" -w simple 2>&1) || fail "$(basename "$tool") snapshot status refused $tmp: $st"
# hash, revision, total keys, total size
rev=$(printf '%s\\n' "$st" | awk -F', ' 'NF >= 4 { r = $2 } END { print r }')
keys=$(printf '%s\\n' "$st" | awk -F', ' 'NF >= 4 { k = $3 } END { print k }')
case "$rev" in ''|*[!0-9]*) fail "snapshot status of $tmp shows no revision: $st" ;; esac
sum=$(sha256sum "$tmp" | cut -d' ' -f1)
printf '%s  %s\\n' "$sum" "$base" > "$tmp.sha256"
mv -f "$tmp.sha256" "$DIR/$base.sha256"
mv -f "$tmp" "$DIR/$base"
say "snapshot $DIR/$base: revision $rev, $keys keys, sha256 $sum"
# Retention: the newest $KEEP snapshots of this member stay (names sort by time).
prune() { sort -r | tail -n +$((KEEP + 1)); }
ls -1 "$DIR" | grep "^$PREFIX.*\\.db$" | prune | while read -r f; do rm -f "$DIR/$f" "$DIR/$f.sha256"; say "pruned $f"; done
ls -1 "$DIR" | grep "^$PREFIX.*\\.db\\.sha256$" | while read -r f; do [ -f "$DIR/\${f%.sha256}" ] || rm -f "$DIR/$f"; done
[ -n "$COPY_HOST" ] || [ -n "$S3_BUCKET" ] || exit 0
# Off-host copies.
send="$DIR/$base"
name="$base"
if [ -f "$RECIPIENT" ]; then
  command -v openssl >/dev/null 2>&1 || fail "openssl is not installed: cannot encrypt the copy"
  openssl cms -encrypt -binary -aes-256-cbc -outform DER -in "$send" -out "$tmp.cms" "$RECIPIENT" || fail "openssl cms -encrypt failed"
  send="$tmp.cms"
  name="$base.cms"
fi
rsum=$(sha256sum "$send" | cut -d' ' -f1)
if [ -n "$S3_BUCKET" ]; then
  # S3: credentials from the host's instance role (the CLI asks the instance metadata); no key anywhere.
  command -v aws >/dev/null 2>&1 || fail "the AWS CLI (aws) is not installed: backup.s3 needs it"
  # Base64 of the MD5 of file $1, for Content-MD5 (md5sum prints hex; awk turns it into octal escapes).
  md5b64() { printf "$(md5sum "$1" | cut -d' ' -f1 | awk '{ h = "0123456789abcdef"; for (i = 1; i < length($1); i += 2) printf "\\\\%03o", (index(h, substr($1, i, 1)) - 1) * 16 + index(h, substr($1, i + 1, 1)) - 1 }')" | base64; }
  # s3put FILE KEY: S3 refuses the body unless its MD5 is Content-MD5 (BadDigest), so a stored object is
  # these bytes; then head-object must show it with this length and the sha256 sent as metadata.
  s3put() {
    _len=$(wc -c < "$1" | tr -d ' ')
    _sum=$(sha256sum "$1" | cut -d' ' -f1)
    _out=$(aws --region "$S3_REGION" s3api put-object --bucket "$S3_BUCKET" --key "$2" --body "$1" --content-md5 "$(md5b64 "$1")" --metadata "sha256=$_sum" --output text 2>&1) || fail "upload to s3://$S3_BUCKET/$2 failed: $_out"
    _got=$(aws --region "$S3_REGION" s3api head-object --bucket "$S3_BUCKET" --key "$2" --query '[ContentLength, Metadata.sha256]' --output text 2>&1) || fail "s3://$S3_BUCKET/$2 cannot be read back after its upload: $_got"
    [ "$(printf '%s\\n' "$_got" | awk '{ print $1 " " $2 }')" = "$_len $_sum" ] || fail "s3://$S3_BUCKET/$2 shows length and sha256 '$_got', expected '$_len $_sum'"
  }
  s3put "$send" "$S3_PREFIX/$name"
  printf '%s  %s\\n' "$rsum" "$name" > "$tmp.up"
  s3put "$tmp.up" "$S3_PREFIX/$name.sha256"
  if [ "$name" != "$base" ]; then
    printf '%s  %s\\n' "$sum" "$base" > "$tmp.up"
    s3put "$tmp.up" "$S3_PREFIX/$base.sha256"
  fi
  say "uploaded to s3://$S3_BUCKET/$S3_PREFIX/$name (sha256 $rsum, length and Content-MD5 checked by S3)"
fi
[ -n "$COPY_HOST" ] || exit 0
remote() { ssh -i "$KEY" -p "$COPY_PORT" -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o ServerAliveInterval=10 -l "$COPY_USER" "$COPY_HOST" "$@"; }
# Sent to a hidden name, checked there, the sha256 files written, and only then renamed: a visible copy
# on the target is complete and has its sha256 beside it.
got=$(remote "umask 077 && mkdir -p $COPY_DIR && cat > $COPY_DIR/.$name.part && sha256sum $COPY_DIR/.$name.part" < "$send") || fail "copy to $COPY_USER@$COPY_HOST:$COPY_DIR failed"
[ "\${got%% *}" = "$rsum" ] || fail "the copy on $COPY_HOST has sha256 \${got%% *}, expected $rsum"
printf '%s  %s\\n' "$rsum" "$name" | remote "umask 077 && cat > $COPY_DIR/$name.sha256" || fail "writing $name.sha256 on $COPY_HOST failed"
if [ "$name" != "$base" ]; then
  # The plain snapshot's sha256, to check it once decrypted (restoreFrom.sha256 is this one).
  printf '%s  %s\\n' "$sum" "$base" | remote "umask 077 && cat > $COPY_DIR/$base.sha256" || fail "writing $base.sha256 on $COPY_HOST failed"
fi
remote "mv -f $COPY_DIR/.$name.part $COPY_DIR/$name" || fail "renaming the copy on $COPY_HOST failed"
# Retention there: the newest $COPY_KEEP of this member's snapshots, with their sha256 files.
remote sh -s -- "$COPY_DIR" "$PREFIX" "$COPY_KEEP" <<'PRUNE' || fail "retention on $COPY_HOST failed"
set -eu
cd "$1"
ls -1 | grep "^$2.*\\.db\\(\\.cms\\)\\?\$" | sort -r | tail -n +$(($3 + 1)) | while read -r f; do
  rm -f "$f" "$f.sha256" "\${f%.cms}.sha256"
done
PRUNE
say "copied to $COPY_USER@$COPY_HOST:$COPY_DIR/$name (sha256 $rsum verified there)"`;

/** The script etcd-backup.service runs on a member. */
export function renderSnapshotScript(s: EtcdBackupSettings): string {
  const c = s.copyTo;
  return [
    `#!/bin/sh`,
    `# Managed by hakube (EtcdCluster ${s.cluster}): snapshot of member ${s.name}, run by ${BACKUP_SERVICE}.`,
    "set -eu",
    shAssignments([
      ["NAME", s.name],
      ["ENDPOINT", s.endpoint],
      ["ETCDCTL", `${s.binDir}/etcdctl`],
      ["ETCDUTL", `${s.binDir}/etcdutl`],
      ["DIR", s.directory],
      ["PREFIX", snapshotPrefix(s)],
      ["KEEP", s.retention],
      // At most the interval: a save still running when the next one is due has failed.
      ["SAVE_TIMEOUT", `${Math.max(s.intervalSeconds - 5, 5)}s`],
      ["COPY_HOST", c?.host ?? ""],
      ["COPY_PORT", c?.port ?? 22],
      ["COPY_USER", c?.user ?? ""],
      ["COPY_DIR", c?.directory ?? ""],
      ["COPY_KEEP", c?.retention ?? 0],
      ["S3_BUCKET", s.s3?.bucket ?? ""],
      ["S3_PREFIX", s.s3?.prefix ?? ""],
      ["S3_REGION", s.s3?.region ?? ""],
      ["KEY", BACKUP_KEY_FILE],
      ["KNOWN_HOSTS", BACKUP_KNOWN_HOSTS],
      ["RECIPIENT", s.encryptTo ? BACKUP_RECIPIENT_FILE : ""],
    ]),
    shFunctions(`hakube etcd-backup ${s.cluster}/${s.name}`),
    SH_SNAPSHOT,
    "",
  ].join("\n");
}

/** The oneshot service: low CPU and I/O priority, fails when the script does. */
export function renderBackupService(s: EtcdBackupSettings): string {
  return renderScheduleService(s, "snapshot", BACKUP_SCRIPT, [
    "Nice=10",
    "IOSchedulingClass=best-effort",
    "IOSchedulingPriority=7",
    `TimeoutStartSec=${s.intervalSeconds}`,
  ]);
}

/**
 * A member's oneshot service for a scheduled job (`what` names it in the description): runs `script`
 * after etcd, and fails when it does; `service` are the [Service] section's lines after ExecStart.
 */
export function renderScheduleService(
  s: Pick<MemberSchedule, "cluster" | "name">,
  what: string,
  script: string,
  service: string[],
): string {
  return `# Managed by hakube (EtcdCluster ${s.cluster}).
[Unit]
Description=etcd ${what} of member ${s.name} (hakube)
After=etcd.service

[Service]
Type=oneshot
ExecStart=/bin/sh ${script}
${service.join("\n")}
`;
}

/** The timer: wall-clock calendar, this member's share of the interval, one-second accuracy. */
export function renderBackupTimer(s: EtcdBackupSettings): string {
  return renderScheduleTimer(s, "snapshot", BACKUP_SERVICE);
}

/** A member's timer for `service` on its {@link MemberSchedule}; `what` names the job in the description. */
export function renderScheduleTimer(s: MemberSchedule, what: string, service: string): string {
  return `# Managed by hakube (EtcdCluster ${s.cluster}): every ${s.intervalSeconds} s, ${s.offsetSeconds} s into the period.
[Unit]
Description=etcd ${what} of member ${s.name} every ${s.intervalSeconds} s (hakube)

[Timer]
OnCalendar=${s.calendar}
AccuracySec=1s
Persistent=false
Unit=${service}

[Install]
WantedBy=timers.target
`;
}

/**
 * Start a scheduled job's timer once its files are in place (`what` names the job in the messages):
 * restarted when one of them changed, started when it is not active or not enabled, else left alone.
 */
export function shStartTimer(timer: string, what: string, calendar: string): string {
  return `if [ "$CHANGED" = 1 ]; then
  systemctl daemon-reload
  systemctl enable --quiet ${timer}
  systemctl restart ${timer}
  say "${what} timer (re)started: ${calendar}"
elif ! systemctl is-active --quiet ${timer} || ! systemctl is-enabled --quiet ${timer}; then
  systemctl enable --now --quiet ${timer}
  say "${what} timer started: ${calendar}"
else
  say "${what} timer is unchanged and active"
fi`;
}

/** The secret files of the backup step, for its stdin: the copy key (mode 0600, root). */
export function backupSecretFiles(privateKey: string | undefined): HostFile[] {
  if (privateKey === undefined) return [];
  const key = privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`;
  return [{ path: BACKUP_KEY_FILE, mode: "0600", owner: "root:root", content: key }];
}

/** Install (or update) the snapshot script, service and timer; start the timer. stdin: backupSecretFiles. */
export function renderBackupInstallScript(s: EtcdBackupSettings): string {
  const files: string[] = [
    heredoc(`put ${BACKUP_SCRIPT} 0700 root:root`, renderSnapshotScript(s)),
    heredoc(`put ${BACKUP_SERVICE_FILE} 0644 root:root`, renderBackupService(s)),
    heredoc(`put ${BACKUP_TIMER_FILE} 0644 root:root`, renderBackupTimer(s)),
  ];
  if (s.copyTo) {
    files.push(heredoc(`put ${BACKUP_KNOWN_HOSTS} 0600 root:root`, knownHostsLine(s.copyTo)));
  } else {
    files.push(`rm -f ${BACKUP_KNOWN_HOSTS} ${BACKUP_KEY_FILE}`);
  }
  if (s.encryptTo) {
    files.push(
      heredoc(`put ${BACKUP_RECIPIENT_FILE} 0644 root:root`, s.encryptTo.certificatePem.trim() + "\n"),
    );
  } else {
    files.push(`rm -f ${BACKUP_RECIPIENT_FILE}`);
  }
  const needs = [
    `[ -x ${s.binDir}/etcdctl ] || fail "etcdctl is not in ${s.binDir}: the install step must run first"`,
    s.copyTo
      ? `command -v ssh >/dev/null 2>&1 || fail "ssh (openssh-client) is not installed: backup.copyTo needs it"`
      : "",
    s.s3 ? `command -v aws >/dev/null 2>&1 || install_packages awscli` : "",
    s.encryptTo
      ? `command -v openssl >/dev/null 2>&1 || fail "openssl is not installed: backup.encryptTo needs it"`
      : "",
  ].filter((l) => l !== "");
  return [
    `# hakube EtcdCluster ${s.cluster}: scheduled snapshots on ${s.name}`,
    "set -eu",
    shFunctions(`hakube etcd ${s.cluster}/${s.name}`),
    ...(s.s3 ? [SH_INSTALL_PACKAGES] : []),
    ...needs,
    `install -d -m 0700 -o root -g root ${BACKUP_CONFIG_DIR}`,
    `install -d -m 0700 -o root -g root ${s.directory}`,
    ...files,
    "# The copy key: one line per file on stdin (path, mode, owner, base64).",
    SH_PUT_BUNDLE_FROM_STDIN,
    shStartTimer(BACKUP_TIMER, "snapshot", s.calendar),
    "",
  ].join("\n");
}

/** Stop and remove the timer, service, script and key. The snapshots stay where they are. */
export function renderBackupRemoveScript(
  s: Pick<EtcdBackupSettings, "cluster" | "name" | "directory">,
): string {
  return [
    `# hakube EtcdCluster ${s.cluster}: remove scheduled snapshots on ${s.name} (snapshots in ${s.directory} are kept)`,
    "set -eu",
    `systemctl disable --now --quiet ${BACKUP_TIMER} 2>/dev/null || true`,
    `rm -rf ${BACKUP_CONFIG_DIR} ${BACKUP_SERVICE_FILE} ${BACKUP_TIMER_FILE}`,
    "systemctl daemon-reload",
    "",
  ].join("\n");
}
