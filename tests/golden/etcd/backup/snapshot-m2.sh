#!/bin/sh
# Managed by hakube (EtcdCluster etcd): snapshot of member m2, run by etcd-backup.service.
set -eu
NAME='m2'
ENDPOINT='https://127.0.0.1:2379'
ETCDCTL='/usr/local/bin/etcdctl'
ETCDUTL='/usr/local/bin/etcdutl'
DIR='/var/backups/etcd'
PREFIX='etcd-etcd-m2-'
KEEP='5'
SAVE_TIMEOUT='895s'
COPY_HOST='10.0.0.50'
COPY_PORT='22'
COPY_USER='backup'
COPY_DIR='/var/backups/etcd'
COPY_KEEP='10'
S3_BUCKET=''
S3_PREFIX=''
S3_REGION=''
KEY='/etc/etcd/backup/ssh-key'
KNOWN_HOSTS='/etc/etcd/backup/known_hosts'
RECIPIENT='/etc/etcd/backup/recipient.pem'
say() { printf '%s: %s\n' 'hakube etcd-backup etcd/m2' "$*"; }
fail() { printf '%s: %s\n' 'hakube etcd-backup etcd/m2' "$*" >&2; exit 1; }
quorum() { echo $(( $1 / 2 + 1 )); }
CHANGED=0
put() {
  _new="$1.hakube-new"
  (umask 077 && cat > "$_new")
  chmod "$2" "$_new" && chown "$3" "$_new"
  if [ -f "$1" ] && cmp -s "$_new" "$1" && [ "$(stat -c '%a %U:%G' "$1")" = "$(stat -c '%a %U:%G' "$_new")" ]; then
    rm -f "$_new"
  else
    mv -f "$_new" "$1"
    CHANGED=1
    say "wrote $1"
  fi
}
umask 077
ctl() { ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ENDPOINT" --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/server.crt --key=/etc/etcd/pki/server.key --dial-timeout=3s "$@"; }
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
rev=$(printf '%s\n' "$st" | awk -F', ' 'NF >= 4 { r = $2 } END { print r }')
keys=$(printf '%s\n' "$st" | awk -F', ' 'NF >= 4 { k = $3 } END { print k }')
case "$rev" in ''|*[!0-9]*) fail "snapshot status of $tmp shows no revision: $st" ;; esac
sum=$(sha256sum "$tmp" | cut -d' ' -f1)
printf '%s  %s\n' "$sum" "$base" > "$tmp.sha256"
mv -f "$tmp.sha256" "$DIR/$base.sha256"
mv -f "$tmp" "$DIR/$base"
say "snapshot $DIR/$base: revision $rev, $keys keys, sha256 $sum"
# Retention: the newest $KEEP snapshots of this member stay (names sort by time).
prune() { sort -r | tail -n +$((KEEP + 1)); }
ls -1 "$DIR" | grep "^$PREFIX.*\.db$" | prune | while read -r f; do rm -f "$DIR/$f" "$DIR/$f.sha256"; say "pruned $f"; done
ls -1 "$DIR" | grep "^$PREFIX.*\.db\.sha256$" | while read -r f; do [ -f "$DIR/${f%.sha256}" ] || rm -f "$DIR/$f"; done
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
  md5b64() { printf "$(md5sum "$1" | cut -d' ' -f1 | awk '{ h = "0123456789abcdef"; for (i = 1; i < length($1); i += 2) printf "\\%03o", (index(h, substr($1, i, 1)) - 1) * 16 + index(h, substr($1, i + 1, 1)) - 1 }')" | base64; }
  # s3put FILE KEY: S3 refuses the body unless its MD5 is Content-MD5 (BadDigest), so a stored object is
  # these bytes; then head-object must show it with this length and the sha256 sent as metadata.
  s3put() {
    _len=$(wc -c < "$1" | tr -d ' ')
    _sum=$(sha256sum "$1" | cut -d' ' -f1)
    _out=$(aws --region "$S3_REGION" s3api put-object --bucket "$S3_BUCKET" --key "$2" --body "$1" --content-md5 "$(md5b64 "$1")" --metadata "sha256=$_sum" --output text 2>&1) || fail "upload to s3://$S3_BUCKET/$2 failed: $_out"
    _got=$(aws --region "$S3_REGION" s3api head-object --bucket "$S3_BUCKET" --key "$2" --query '[ContentLength, Metadata.sha256]' --output text 2>&1) || fail "s3://$S3_BUCKET/$2 cannot be read back after its upload: $_got"
    [ "$(printf '%s\n' "$_got" | awk '{ print $1 " " $2 }')" = "$_len $_sum" ] || fail "s3://$S3_BUCKET/$2 shows length and sha256 '$_got', expected '$_len $_sum'"
  }
  s3put "$send" "$S3_PREFIX/$name"
  printf '%s  %s\n' "$rsum" "$name" > "$tmp.up"
  s3put "$tmp.up" "$S3_PREFIX/$name.sha256"
  if [ "$name" != "$base" ]; then
    printf '%s  %s\n' "$sum" "$base" > "$tmp.up"
    s3put "$tmp.up" "$S3_PREFIX/$base.sha256"
  fi
  say "uploaded to s3://$S3_BUCKET/$S3_PREFIX/$name (sha256 $rsum, length and Content-MD5 checked by S3)"
fi
[ -n "$COPY_HOST" ] || exit 0
remote() { ssh -i "$KEY" -p "$COPY_PORT" -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o ServerAliveInterval=10 -l "$COPY_USER" "$COPY_HOST" "$@"; }
# Sent to a hidden name, checked there, the sha256 files written, and only then renamed: a visible copy
# on the target is complete and has its sha256 beside it.
got=$(remote "umask 077 && mkdir -p $COPY_DIR && cat > $COPY_DIR/.$name.part && sha256sum $COPY_DIR/.$name.part" < "$send") || fail "copy to $COPY_USER@$COPY_HOST:$COPY_DIR failed"
[ "${got%% *}" = "$rsum" ] || fail "the copy on $COPY_HOST has sha256 ${got%% *}, expected $rsum"
printf '%s  %s\n' "$rsum" "$name" | remote "umask 077 && cat > $COPY_DIR/$name.sha256" || fail "writing $name.sha256 on $COPY_HOST failed"
if [ "$name" != "$base" ]; then
  # The plain snapshot's sha256, to check it once decrypted (restoreFrom.sha256 is this one).
  printf '%s  %s\n' "$sum" "$base" | remote "umask 077 && cat > $COPY_DIR/$base.sha256" || fail "writing $base.sha256 on $COPY_HOST failed"
fi
remote "mv -f $COPY_DIR/.$name.part $COPY_DIR/$name" || fail "renaming the copy on $COPY_HOST failed"
# Retention there: the newest $COPY_KEEP of this member's snapshots, with their sha256 files.
remote sh -s -- "$COPY_DIR" "$PREFIX" "$COPY_KEEP" <<'PRUNE' || fail "retention on $COPY_HOST failed"
set -eu
cd "$1"
ls -1 | grep "^$2.*\.db\(\.cms\)\?$" | sort -r | tail -n +$(($3 + 1)) | while read -r f; do
  rm -f "$f" "$f.sha256" "${f%.cms}.sha256"
done
PRUNE
say "copied to $COPY_USER@$COPY_HOST:$COPY_DIR/$name (sha256 $rsum verified there)"
