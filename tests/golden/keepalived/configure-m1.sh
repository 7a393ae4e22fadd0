# hakube KeepalivedVip vip: configure keepalived on m1
set -eu
NAME='m1'
IFACE='eth0'
ADDRESS='10.0.0.11'
VIP='10.0.0.10/24'
KEEPALIVED='/usr/sbin/keepalived'
CONFIG='/etc/keepalived/keepalived.conf'
SCRIPT_USER='keepalived_script'
TIMEOUT='60'
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
[ -x "$KEEPALIVED" ] || fail "keepalived is not installed at $KEEPALIVED: the install step must run first"
ip link show dev "$IFACE" >/dev/null 2>&1 || fail "interface $IFACE does not exist on $NAME; interface must name the VIP's interface, the same on every member"
ip -o address show dev "$IFACE" | grep -q " $ADDRESS/" || fail "$ADDRESS is not an address of $IFACE on $NAME: VRRP advertisements are sent from it (unicast_src_ip), so it must be on the VIP's interface"
install -d -m 0755 -o root -g root /etc/keepalived
# The check script first: keepalived -t refuses a configuration whose script is missing or insecure.
getent passwd "$SCRIPT_USER" >/dev/null || fail "user $SCRIPT_USER does not exist: the install step must run first"
put /etc/keepalived/hakube-check.sh 0755 root:root <<'HAKUBE_EOF'
#!/bin/sh
# Managed by hakube (KeepalivedVip vip, member m1); changes here are overwritten.
# keepalived's health check: exit 0 when this host's kube-apiserver is ready, non-zero otherwise.
set -eu
URL='https://10.0.0.11:6443/readyz'
RUN_AS='keepalived_script'
set -- curl --silent --fail --noproxy '*' --insecure --max-time 0.8 --output /dev/null "$URL"
if [ "$(id -u)" = 0 ]; then
  uid=$(id -u "$RUN_AS")
  gid=$(id -g "$RUN_AS")
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
fi
exec "$@"
HAKUBE_EOF
# The new keepalived.conf is checked (keywords, values, the interface, the script) before it replaces
# the one in use; the unit is written only after that, so a refused configuration changes nothing that
# a later run would not apply.
tmp="$CONFIG.hakube-test"
trap 'rm -f "$tmp"' EXIT
(umask 022 && cat > "$tmp") <<'HAKUBE_EOF'
# Managed by hakube (KeepalivedVip vip, member m1); changes here are overwritten.
# VIP 10.0.0.10/24 on eth0, VRRPv3 unicast, priority 200 when healthy (179 until its check passes), check: apiServer every 1 s, fall 2, rise 2, weight 21.
# No authentication block: VRRP authentication is VRRPv2-only and sends its password in clear text.

global_defs {
    router_id m1
    vrrp_version 3
    enable_script_security
    script_user root
}

vrrp_script hakube_check {
    script "/etc/keepalived/hakube-check.sh"
    interval 1
    timeout 1
    fall 2
    rise 2
    weight 21
    init_fail
}

vrrp_instance hakube_vip {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 179
    advert_int 0.1
    unicast_src_ip 10.0.0.11
    unicast_peer {
        10.0.0.12
        10.0.0.13
    }
    virtual_ipaddress {
        10.0.0.10/24 dev eth0
    }
    track_script {
        hakube_check
    }
}
HAKUBE_EOF
if ! out=$("$KEEPALIVED" -t -f "$tmp" 2>&1); then
  fail "keepalived -t rejected the new configuration; $CONFIG is unchanged:
$out"
fi
put "$CONFIG" 0644 root:root < "$tmp"
CHANGED_BEFORE_UNIT=$CHANGED
CHANGED=0
put /etc/systemd/system/keepalived.service 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (KeepalivedVip vip, member m1); changes here are overwritten.
# Replaces the distribution's keepalived.service. ExecStopPost releases the virtual IP however keepalived
# ended (a SIGKILLed keepalived leaves it on the interface), so a dead keepalived never holds it.
[Unit]
Description=keepalived: VRRP for the virtual IP 10.0.0.10 (hakube KeepalivedVip vip)
Documentation=man:keepalived(8) man:keepalived.conf(5)
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
RuntimeDirectory=keepalived
ExecStartPre=/bin/sh -c 'ip address del 10.0.0.10/24 dev eth0 2>/dev/null || true'
ExecStart=/usr/sbin/keepalived --dont-fork --vrrp --log-detail --use-file=/etc/keepalived/keepalived.conf --pid=/run/keepalived/keepalived.pid --vrrp_pid=/run/keepalived/vrrp.pid
ExecReload=/bin/kill -HUP $MAINPID
ExecStopPost=/bin/sh -c 'ip address del 10.0.0.10/24 dev eth0 2>/dev/null || true'
Restart=always
RestartSec=1s

[Install]
WantedBy=multi-user.target
HAKUBE_EOF
UNIT_CHANGED=$CHANGED
[ "$CHANGED_BEFORE_UNIT" = 0 ] || CHANGED=1
if [ "$UNIT_CHANGED" = 1 ]; then systemctl daemon-reload; fi
if [ "$CHANGED" = 0 ] && systemctl is-active --quiet keepalived; then
  say "configuration is unchanged; keepalived is running"
  exit 0
fi
systemctl enable --quiet keepalived
if [ "$UNIT_CHANGED" = 0 ] && systemctl is-active --quiet keepalived; then
  systemctl reload keepalived
  say "reloaded keepalived with the new configuration"
else
  # A restart releases the VIP if this member holds it (ExecStopPost); another member takes it over.
  systemctl restart keepalived
  say "(re)started keepalived"
fi
deadline=$(( $(date +%s) + TIMEOUT ))
until systemctl is-active --quiet keepalived; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "keepalived is not active $TIMEOUT s after the start; see journalctl -u keepalived"
  sleep 1
done
if ip -o address show dev "$IFACE" | grep -q " $VIP "; then
  say "keepalived is active; this member holds $VIP"
else
  say "keepalived is active; this member does not hold $VIP at the moment"
fi
