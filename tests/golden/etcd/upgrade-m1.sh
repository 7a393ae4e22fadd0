# hakube EtcdCluster etcd: upgrade etcd to 3.5.16 on m1
set -eu
NAME='m1'
CLIENT_URL='https://10.0.0.11:2379'
PEER_URL='https://10.0.0.11:2380'
DATA_DIR='/var/lib/etcd'
ETCDCTL='/usr/local/bin/etcdctl'
TIMEOUT='180'
ROSTER='/etc/etcd/roster'
CLUSTER_ENV='/etc/etcd/cluster.env'
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
ctl() { ETCDCTL_API=3 "$ETCDCTL" --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/server.crt --key=/etc/etcd/pki/server.key --dial-timeout=2s --command-timeout=5s "$@"; }
deadline=$(( $(date +%s) + TIMEOUT ))
in_time() { [ "$(date +%s)" -lt "$deadline" ]; }
# Is the member at $1 healthy (leader known, a read goes through)? A healthy member answers in
# milliseconds; one that is not yet serving (bootstrapping without quorum) is given up on after 2 s.
# With curl, a member that is not even listening fails at once (connection refused), where etcdctl
# would wait out its whole timeout: that keeps a bootstrap from paying 2 s per absent member.
healthy() {
  if [ -n "$CURL" ]; then
    "$CURL" -s --max-time 2 --cacert /etc/etcd/pki/ca.crt --cert /etc/etcd/pki/server.crt --key /etc/etcd/pki/server.key "$1/health" 2>/dev/null | grep -q '"health":"true"'
  else
    ctl --command-timeout=2s --endpoints="$1" endpoint health >/dev/null 2>&1
  fi
}
CURL=$(command -v curl || true)
others() { [ -f "$ROSTER" ] && awk -v me="$NAME" '$1 != me { print $3 }' "$ROSTER"; }
# Run "$1 <client URL>" for every other roster member, in parallel; their outputs in roster order.
for_others_parallel() {
  _dir=$(mktemp -d)
  _i=0
  for u in $(others); do
    _i=$((_i + 1))
    ( "$1" "$u" > "$_dir/$(printf '%03d' "$_i")" ) &
  done
  wait
  cat "$_dir"/* 2>/dev/null || true
  rm -rf "$_dir"
}
echo_if_healthy() { if healthy "$1"; then echo "$1"; fi; }
# The other roster members that are healthy, in roster order.
healthy_others() { for_others_parallel echo_if_healthy; }
# The members that the member at $1 lists as started. Names are published through raft, so a cluster that
# never had quorum lists none, and a member still bootstrapping does not answer at all.
started_members_via() { ctl --command-timeout=2s --endpoints="$1" member list -w simple 2>/dev/null | awk -F', ' '$2 == "started"' || true; }
# Does another roster member answer for a cluster that was formed? (With no healthy member: an election
# in progress, or quorum lost.)
formed_cluster_answers() { [ -n "$(for_others_parallel started_members_via)" ]; }
# Run "$@" until it succeeds, again every second for up to 15 s (within TIMEOUT); status 1 if it never did.
# During an election (after the leader left or stepped down) every member's /health fails for a moment.
until_settled() {
  _until=$(( $(date +%s) + 15 ))
  until "$@"; do
    [ "$(date +%s)" -lt "$_until" ] && in_time || return 1
    sleep 1
  done
}
# The healthy other members, comma-separated, looked for again until settled: empty only if none is.
found_healthy_others() { _eps=$(healthy_others | paste -sd, -); [ -n "$_eps" ]; }
healthy_others_settled() {
  until_settled found_healthy_others || true
  printf '%s
' "$_eps"
}
members() { ctl --endpoints="$1" member list -w simple; }
# endpoint status -w fields ("Version" : "3.5.16", "MemberID" : 123, "Leader" : 123): the same keys in
# every etcdctl from 3.4 on, where the columns of -w simple moved in 3.6.
fields_of() { ctl --endpoints="$1" endpoint status -w fields 2>/dev/null || true; }
field() { awk -F' : ' -v k="\"$1\"" '$1 == k { gsub(/"/, "", $2); print $2; exit }'; }
is_leader() {
  _f=$(fields_of "$CLIENT_URL")
  _me=$(printf '%s\n' "$_f" | field MemberID)
  [ -n "$_me" ] && [ "$_me" = "$(printf '%s\n' "$_f" | field Leader)" ]
}
not_leader() { ! is_leader; }
# A member's ID as move-leader takes it (hex), from member list -w simple (id, status, name, ...).
id_of() { members "$CLIENT_URL" | awk -F', ' -v n="$1" '$3 == n { print $1 }'; }
move_leader_once() { _out=$(ctl --endpoints="$CLIENT_URL" move-leader "$1" 2>&1); }
# Hand this member's leadership to the member named $1 (tried until settled); status 1 and $_why if not.
hand_leadership_to() {
  _id=$(id_of "$1")
  [ -n "$_id" ] || { _why="$1 is not in the member list of $CLIENT_URL"; return 1; }
  until_settled move_leader_once "$_id" || { _why="move-leader: $_out"; return 1; }
  until_settled not_leader || { _why="$NAME still leads after move-leader"; return 1; }
}
my_line() { members "$1" | awk -F', ' -v p="$PEER_URL" '$4 == p'; }
voter_count() { members "$1" | awk -F', ' '$6 == "false"' | wc -l; }
healthy_voters_except_me() {
  n=0
  for u in $(members "$1" | awk -F', ' -v p="$PEER_URL" '$2 == "started" && $6 == "false" && $4 != p { split($5, a, ","); print a[1] }'); do
    if healthy "$u"; then n=$((n + 1)); fi
  done
  echo "$n"
}
enough_voters_except_me() { _up=$(healthy_voters_except_me "$1"); [ "$_up" -ge "$_need" ]; }
# Fail unless the other voting members keep quorum while this one is away (restart) or gone (remove),
# looked at again until settled. $1: endpoints, $2: voters that remain counted, $3: what is about to happen.
require_quorum_without_me() {
  _need=$(quorum "$2")
  until_settled enough_voters_except_me "$1" || fail "refusing to $3: $2 voting members need a quorum of $_need, but only $_up of the others are healthy; bring the other members back first"
}
VERSION='3.5.16'
STAGE='/var/lib/hakube/etcd-upgrade/v3.5.16'
BIN_DIR='/usr/local/bin'
ORDER='m1 m2 m3'
ver_cmp() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, "."); split(b, y, ".")
    for (i = 1; i <= 3; i++) { if (x[i] + 0 < y[i] + 0) { print -1; exit } if (x[i] + 0 > y[i] + 0) { print 1; exit } }
    print 0 }'
}
check_no_downgrade() {
  [ -n "$2" ] || return 0
  if [ "$(ver_cmp "$VERSION" "$2")" = -1 ]; then
    fail "refusing version $VERSION: $1 runs etcd $2, and downgrades are refused (etcd cannot go back once the cluster version moved on; restore a snapshot into a new cluster instead); set version to $2 or later. Nothing was changed"
  fi
}
check_step() {
  [ -n "$2" ] || return 0
  check_no_downgrade "$1" "$2"
  _next=$(echo "$2" | awk -F. '{ print $1 "." $2 + 1 }')
  case "$VERSION" in
    "${2%.*}".*|"$_next".*) ;;
    *) fail "refusing version $VERSION: $1 runs etcd $2, and etcd upgrades one minor at a time; set version to a $_next release first. Nothing was changed" ;;
  esac
}
bin_version() { "$1/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p'; }
server_version() { fields_of "$1" | field Version; }
# The cluster version (what every member supports; etcd moves it up once all run a new minor), from /version.
cluster_version() {
  [ -n "$CURL" ] || return 0
  "$CURL" -s --max-time 2 --cacert /etc/etcd/pki/ca.crt --cert /etc/etcd/pki/server.crt --key /etc/etcd/pki/server.key "$1/version" 2>/dev/null | sed -n 's/.*"etcdcluster":"\([0-9.]*\)".*/\1/p'
}
url_of() { awk -v n="$1" '$1 == n { print $3 }' "$ROSTER"; }

if [ ! -d "$DATA_DIR/member" ]; then
  say "no data yet: nothing to upgrade (the member step starts etcd $VERSION)"
  exit 0
fi
have=$(bin_version "$BIN_DIR")
running=""
if systemctl is-active --quiet etcd; then running=$(server_version "$CLIENT_URL" || true); fi
if [ "$have" = "$VERSION" ] && { [ -z "$running" ] || [ "$running" = "$VERSION" ]; }; then
  rm -rf "$STAGE"
  say "etcd $VERSION is installed${running:+ and running}: nothing to upgrade"
  exit 0
fi
from=${running:-$have}
if [ "$have" != "$VERSION" ]; then
  [ "$(bin_version "$STAGE")" = "$VERSION" ] || fail "etcd $VERSION is not staged in $STAGE (the install step stages it); run the update again"
fi
[ -f "$ROSTER" ] || fail "no roster in $ROSTER: the member step of an earlier deployment writes it"

# 1. No downgrade, no skipped minor: against every member and the cluster version.
cv=""
for n in $(awk '{ print $1 }' "$ROSTER"); do
  u=$(url_of "$n")
  check_step "$n" "$(server_version "$u")"
  [ -n "$cv" ] || cv=$(cluster_version "$u")
done
# Only no downgrade here: a new cluster reports 3.0.0 until its leader raises it to its members' minor.
check_no_downgrade "the cluster (cluster version)" "$cv"

# 2. The others keep quorum while this member restarts.
eps=$(healthy_others_settled)
if [ -n "$eps" ]; then
  require_quorum_without_me "$eps" "$(voter_count "$eps")" "upgrade etcd on $NAME"
elif [ "$(members "$CLIENT_URL" 2>/dev/null | wc -l)" -gt 1 ]; then
  fail "refusing to upgrade etcd on $NAME: no other member is healthy, so the cluster would lose quorum; bring the other members back first"
fi

# 3. The leader is restarted last: hand leadership to the last member of the order still on the old
# version, or, when every other member is upgraded, to one of them.
if is_leader; then
  pending=""
  done_=""
  for n in $ORDER; do
    [ "$n" != "$NAME" ] || continue
    u=$(url_of "$n")
    [ -n "$u" ] && healthy "$u" || continue
    if [ "$(server_version "$u")" = "$VERSION" ]; then done_=${done_:-$n}; else pending=$n; fi
  done
  to=${pending:-$done_}
  if [ -n "$to" ]; then
    hand_leadership_to "$to" || fail "refusing to restart the leader $NAME: could not hand leadership to $to ($_why)"
    say "handed leadership to $to before the upgrade"
  fi
fi

# 4. The new binaries, a restart, and back to healthy on the new version.
if [ "$have" != "$VERSION" ]; then
  bins=$(cd "$STAGE" && ls etcd etcdctl etcdutl 2>/dev/null || true)
  for b in $bins; do
    install -m 0755 "$STAGE/$b" "$BIN_DIR/$b.hakube-new"
  done
  for b in $bins; do
    mv -f "$BIN_DIR/$b.hakube-new" "$BIN_DIR/$b"
  done
fi
started=$(date +%s)
systemctl restart --no-block etcd
until healthy "$CLIENT_URL" && [ "$(server_version "$CLIENT_URL")" = "$VERSION" ]; do
  in_time || fail "etcd on $NAME is not healthy on $VERSION $TIMEOUT s after the upgrade from $from; see journalctl -u etcd (the old binaries are gone: set version to $VERSION again once it is fixed)"
  sleep 1
done
rm -rf "$STAGE"
say "upgraded from etcd $from to $VERSION: healthy again after $(( $(date +%s) - started )) s"
