# hakube KeepalivedVip vip: install keepalived on m1 (preinstalled)
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
require_version() {
  _maj=$(printf '%s' "$1" | cut -d. -f1)
  _min=$(printf '%s' "$1" | cut -d. -f2)
  case "$_maj$_min" in ''|*[!0-9]*) fail "cannot tell the version of $2 (got '$1'); hakube needs 2.0 or later" ;; esac
  if [ "$_maj" -lt 2 ] || { [ "$_maj" -eq 2 ] && [ "$_min" -lt 0 ]; }; then
    fail "$2 is version $1; hakube needs 2.0 or later"
  fi
  say "$2 $1"
}
say "install.method is preinstalled: checking $KEEPALIVED"
[ -x "$KEEPALIVED" ] || fail "$KEEPALIVED does not exist: install keepalived 2.0 or later, or use install.method package"
require_version "$("$KEEPALIVED" --version 2>&1 | sed -n 's/^Keepalived v\([0-9][0-9.]*\).*/\1/p' | head -n 1)" keepalived
install -d -m 0755 -o root -g root /etc/keepalived
