# hakube KeepalivedVip vip: install keepalived on m1 (package)
set -eu
KEEPALIVED='/usr/sbin/keepalived'
SCRIPT_USER='keepalived_script'
say() { printf '%s: %s\n' 'hakube keepalived vip/m1' "$*"; }
fail() { printf '%s: %s\n' 'hakube keepalived vip/m1' "$*" >&2; exit 1; }
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
install_packages() {
  wait_for_cloud_init
  if command -v apt-get >/dev/null 2>&1; then
    (no_service_start && apt_install --no-install-recommends "$@") || fail "apt-get install $* failed"
    say "installed $* with apt-get"
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y -q "$@" >/dev/null || fail "dnf install $* failed"
    say "installed $* with dnf"
  elif command -v yum >/dev/null 2>&1; then
    yum install -y -q "$@" >/dev/null || fail "yum install $* failed"
    say "installed $* with yum"
  else
    fail "no supported package manager (apt-get, dnf, yum): install $* yourself and use install.method preinstalled"
  fi
}
require_version() {
  _maj=$(printf '%s' "$1" | cut -d. -f1)
  _min=$(printf '%s' "$1" | cut -d. -f2)
  case "$_maj$_min" in ''|*[!0-9]*) fail "cannot tell the version of $2 (got '$1'); hakube needs 2.0 or later" ;; esac
  if [ "$_maj" -lt 2 ] || { [ "$_maj" -eq 2 ] && [ "$_min" -lt 0 ]; }; then
    fail "$2 is version $1; hakube needs 2.0 or later"
  fi
  say "$2 $1"
}
need=""
[ -x "$KEEPALIVED" ] || need="keepalived"
command -v curl >/dev/null 2>&1 || need="$need curl"
if [ -n "$need" ]; then
  install_packages $need
else
  say "keepalived and curl are already installed"
fi
[ -x "$KEEPALIVED" ] || fail "$KEEPALIVED does not exist: install keepalived 2.0 or later, or use install.method package"
require_version "$("$KEEPALIVED" --version 2>&1 | sed -n 's/^Keepalived v\([0-9][0-9.]*\).*/\1/p' | head -n 1)" keepalived
command -v curl >/dev/null 2>&1 || fail "curl is not installed: the health check needs it"
command -v setpriv >/dev/null 2>&1 || fail "setpriv (util-linux) is not installed: the health check drops privileges with it"
if ! getent passwd "$SCRIPT_USER" >/dev/null; then
  useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$SCRIPT_USER"
  say "created user $SCRIPT_USER (runs the health check's curl)"
fi
install -d -m 0755 -o root -g root /etc/keepalived
