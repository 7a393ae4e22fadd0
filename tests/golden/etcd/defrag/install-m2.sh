# hakube EtcdCluster etcd: scheduled defragmentation on m2
set -eu
say() { printf '%s: %s\n' 'hakube etcd etcd/m2' "$*"; }
fail() { printf '%s: %s\n' 'hakube etcd etcd/m2' "$*" >&2; exit 1; }
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
[ -x /usr/local/bin/etcdctl ] || fail "etcdctl is not in /usr/local/bin: the install step must run first"
put /etc/etcd/defrag.sh 0700 root:root <<'HAKUBE_EOF'
#!/bin/sh
# Managed by hakube (EtcdCluster etcd): defragment member m2, run by etcd-defrag.service.
set -eu
NAME='m2'
ENDPOINT='https://127.0.0.1:2379'
ETCDCTL='/usr/local/bin/etcdctl'
ROSTER='/etc/etcd/roster'
say() { printf '%s: %s\n' 'hakube etcd-defrag etcd/m2' "$*"; }
fail() { printf '%s: %s\n' 'hakube etcd-defrag etcd/m2' "$*" >&2; exit 1; }
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
ctl() { ETCDCTL_API=3 "$ETCDCTL" --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/server.crt --key=/etc/etcd/pki/server.key --dial-timeout=3s "$@"; }
all=$(awk '{ print $3 }' "$ROSTER" | paste -sd, -)
[ -n "$all" ] || fail "no roster in $ROSTER"
# Every member healthy: the cluster keeps quorum and its fault tolerance while this one pauses.
out=$(ctl --command-timeout=5s --endpoints="$all" endpoint health 2>&1) || fail "not every member is healthy, so $NAME is not defragmented now: $out"
size() { ctl --command-timeout=5s --endpoints="$ENDPOINT" endpoint status -w simple | awk -F', ' '{ print $4 }'; }
before=$(size)
out=$(ctl --command-timeout=300s --endpoints="$ENDPOINT" defrag 2>&1) || fail "etcdctl defrag failed: $out"
say "defragmented $NAME: database $before -> $(size)"
HAKUBE_EOF
put /etc/systemd/system/etcd-defrag.service 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (EtcdCluster etcd).
[Unit]
Description=etcd defragmentation of member m2 (hakube)
After=etcd.service

[Service]
Type=oneshot
ExecStart=/bin/sh /etc/etcd/defrag.sh
TimeoutStartSec=600
HAKUBE_EOF
put /etc/systemd/system/etcd-defrag.timer 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (EtcdCluster etcd): every 86400 s, 28800 s into the period.
[Unit]
Description=etcd defragmentation of member m2 every 86400 s (hakube)

[Timer]
OnCalendar=*-*-* 08:00:00
AccuracySec=1s
Persistent=false
Unit=etcd-defrag.service

[Install]
WantedBy=timers.target
HAKUBE_EOF
if [ "$CHANGED" = 1 ]; then
  systemctl daemon-reload
  systemctl enable --quiet etcd-defrag.timer
  systemctl restart etcd-defrag.timer
  say "defrag timer (re)started: *-*-* 08:00:00"
elif ! systemctl is-active --quiet etcd-defrag.timer || ! systemctl is-enabled --quiet etcd-defrag.timer; then
  systemctl enable --now --quiet etcd-defrag.timer
  say "defrag timer started: *-*-* 08:00:00"
else
  say "defrag timer is unchanged and active"
fi
