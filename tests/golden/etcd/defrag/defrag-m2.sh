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
