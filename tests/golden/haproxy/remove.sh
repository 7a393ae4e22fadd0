# hakube LoadBalancer lb: remove HAProxy's configuration on lb1
set -eu
say() { printf '%s: %s\n' 'hakube haproxy lb/lb1' "$*"; }
fail() { printf '%s: %s\n' 'hakube haproxy lb/lb1' "$*" >&2; exit 1; }
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
systemctl disable --now --quiet haproxy 2>/dev/null || true
rm -f /etc/sysctl.d/90-hakube-haproxy.conf /etc/haproxy/hakube-backend-ca.crt
say "haproxy stopped and disabled; /etc/haproxy/haproxy.cfg and the package are left in place, ip_nonlocal_bind keeps its value until the next boot"
