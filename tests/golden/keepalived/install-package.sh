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
install_packages() {
  if command -v apt-get >/dev/null 2>&1; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; } || fail "apt-get install $* failed"
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
