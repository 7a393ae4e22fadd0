# hakube LoadBalancer lb: configure HAProxy on lb1
set -eu
HAPROXY='/usr/sbin/haproxy'
CONFIG='/etc/haproxy/haproxy.cfg'
TIMEOUT='60'
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
[ -x "$HAPROXY" ] || fail "HAProxy is not installed at $HAPROXY: the install step must run first"
# 10.0.0.10 may be held by another host: allow binding it (also after a reboot).
put /etc/sysctl.d/90-hakube-haproxy.conf 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (LoadBalancer lb): HAProxy binds 10.0.0.10, which this host
# may not hold at the moment (a virtual IP that another host holds).
net.ipv4.ip_nonlocal_bind = 1
HAKUBE_EOF
sysctl -q -p /etc/sysctl.d/90-hakube-haproxy.conf >/dev/null || fail "sysctl -p /etc/sysctl.d/90-hakube-haproxy.conf failed"
[ "$(sysctl -n net.ipv4.ip_nonlocal_bind)" = 1 ] || fail "net.ipv4.ip_nonlocal_bind is not 1 after sysctl -p; HAProxy could not bind 10.0.0.10 while another host holds it"
# The backends' CA (when verifying): one line per file on stdin (path, mode, owner, base64).
while read -r _path _mode _owner _data; do
  [ -n "$_path" ] || continue
  (umask 077 && printf '%s' "$_data" | base64 -d > "$_path.hakube-in")
  put "$_path" "$_mode" "$_owner" < "$_path.hakube-in"
  rm -f "$_path.hakube-in"
done
if [ -e /etc/haproxy/hakube-backend-ca.crt ]; then
  rm -f /etc/haproxy/hakube-backend-ca.crt
  CHANGED=1
  say "removed /etc/haproxy/hakube-backend-ca.crt (checks no longer verify a CA)"
fi
# The new configuration is checked before it replaces the one in use.
tmp="$CONFIG.hakube-test"
trap 'rm -f "$tmp"' EXIT
(umask 022 && cat > "$tmp") <<'HAKUBE_EOF'
# Managed by hakube (LoadBalancer lb); changes here are overwritten.
# Checked with haproxy -c before it replaces the previous file; applied with systemctl reload.

global
    log stdout format short local0 notice
    chroot /var/lib/haproxy
    user haproxy
    group haproxy
    stats socket /var/lib/haproxy/admin.sock mode 600 level admin expose-fd listeners

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    option log-separate-errors
    option redispatch 1
    retries 3
    timeout connect 300ms
    timeout client 15m
    timeout server 15m

frontend kube-apiserver
    bind 10.0.0.10:6443
    default_backend kube-apiserver

backend kube-apiserver
    balance leastconn
    option allbackups
    option httpchk GET /readyz
    http-check expect status 200
    default-server check check-ssl verify none inter 500ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
    server m1 10.0.0.11:6443
    server m2 10.0.0.12:6443
    server m3 10.0.0.13:6443
    server m1-failopen 10.0.0.11:6443 backup no-check
    server m2-failopen 10.0.0.12:6443 backup no-check
    server m3-failopen 10.0.0.13:6443 backup no-check

frontend healthz
    bind 127.0.0.1:8404
    mode http
    monitor-uri /healthz
    stats enable
    stats uri /stats
HAKUBE_EOF
if ! out=$("$HAPROXY" -c -f "$tmp" 2>&1); then
  fail "haproxy -c rejected the new configuration; $CONFIG is unchanged:
$out"
fi
put "$CONFIG" 0644 root:root < "$tmp"
if [ "$CHANGED" = 0 ] && systemctl is-active --quiet haproxy; then
  say "configuration is unchanged; haproxy is running"
  exit 0
fi
systemctl enable --quiet haproxy
if systemctl is-active --quiet haproxy; then
  # Master-worker reload: the distribution's unit checks the file again, the new worker takes over the
  # listening sockets, the old one finishes its connections.
  systemctl reload haproxy
  say "reloaded haproxy with the new configuration"
else
  systemctl restart haproxy
  say "started haproxy"
fi
deadline=$(( $(date +%s) + TIMEOUT ))
until systemctl is-active --quiet haproxy; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "haproxy is not active $TIMEOUT s after the start; see journalctl -u haproxy"
  sleep 1
done
