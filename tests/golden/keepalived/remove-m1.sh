# hakube KeepalivedVip vip: remove keepalived's configuration on m1
set -eu
IFACE='eth0'
VIP='10.0.0.10/24'
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
systemctl disable --now --quiet keepalived 2>/dev/null || true
ip address del "$VIP" dev "$IFACE" 2>/dev/null || true
rm -f /etc/keepalived/keepalived.conf /etc/keepalived/hakube-check.sh /etc/systemd/system/keepalived.service
systemctl daemon-reload
say "keepalived stopped and disabled, $VIP released, hakube's files removed; the package is left installed"
