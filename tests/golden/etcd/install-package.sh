# hakube EtcdCluster etcd: install etcd on m1 (package)
set -eu
BIN_DIR='/usr/bin'
DATA_DIR='/var/lib/etcd'
say() { printf '%s: %s\n' 'hakube etcd etcd/m1' "$*"; }
fail() { printf '%s: %s\n' 'hakube etcd etcd/m1' "$*" >&2; exit 1; }
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
wait_for_cloud_init() {
  if command -v cloud-init >/dev/null 2>&1; then
    timeout 900 cloud-init status --wait >/dev/null 2>&1 || true
  fi
}
apt_retry() {
  _waited=0
  while :; do
    _rc=0
    { _err=$(DEBIAN_FRONTEND=noninteractive "$@" 2>&1 >&3 3>&-); } 3>&1 || _rc=$?
    if [ "$_rc" -eq 0 ]; then
      [ -z "$_err" ] || printf '%s\n' "$_err" >&2
      return 0
    fi
    case "$_err" in
      *"Could not get lock"*|*"Unable to lock"*|*"Unable to acquire"*)
        if [ "$_waited" -lt 600 ]; then
          [ "$_waited" -gt 0 ] || say "another package manager holds apt's lock; waiting for it (at most 600 s)" >&2
          sleep 5
          _waited=$((_waited + 5))
          continue
        fi ;;
    esac
    printf '%s\n' "$_err" >&2
    return "$_rc"
  done
}
apt_get() { apt_retry apt-get -o DPkg::Lock::Timeout=600 "$@"; }
apt_install() {
  apt_get install -y -q "$@" >/dev/null 2>&1 || { apt_get update -q >/dev/null && apt_get install -y -q "$@" >/dev/null; }
}
no_service_start() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
}
if [ -x "$BIN_DIR/etcd" ] && [ -x "$BIN_DIR/etcdctl" ]; then
  say "etcd is already installed in $BIN_DIR"
elif command -v apt-get >/dev/null 2>&1; then
  wait_for_cloud_init
  (no_service_start && apt_install etcd-server etcd-client) || fail "apt-get install etcd-server etcd-client failed"
  say "installed etcd-server and etcd-client with apt-get"
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y -q etcd >/dev/null || fail "dnf install etcd failed"
  say "installed etcd with dnf"
elif command -v yum >/dev/null 2>&1; then
  yum install -y -q etcd >/dev/null || fail "yum install etcd failed"
  say "installed etcd with yum"
else
  fail "no supported package manager (apt-get, dnf, yum); use install.method release or preinstalled"
fi
[ -x "$BIN_DIR/etcd" ] && [ -x "$BIN_DIR/etcdctl" ] || fail "etcd and etcdctl are not in $BIN_DIR"
have=$("$BIN_DIR/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')
case "$have" in
  3.[4-9].*|3.[1-9][0-9].*|[4-9].*) say "etcd $have in $BIN_DIR" ;;
  *) fail "etcd in $BIN_DIR is version '$have'; hakube needs 3.4 or later (learners)" ;;
esac
if ! getent passwd etcd >/dev/null; then
  useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin etcd
  say "created user etcd"
fi
install -d -m 0755 -o root -g root /etc/etcd
install -d -m 0700 -o etcd -g etcd /etc/etcd/pki
install -d -m 0700 -o etcd -g etcd "$DATA_DIR"
