# hakube EtcdCluster etcd: configure on m1
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
getent passwd etcd >/dev/null || fail "user etcd does not exist: the install step must run first"
install -d -m 0755 -o root -g root /etc/etcd
install -d -m 0700 -o etcd -g etcd /etc/etcd/pki
put /etc/etcd/etcd.env 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (EtcdCluster etcd, member m1); changes here are overwritten.
# etcd from install.method release. The initial cluster is in /etc/etcd/cluster.env, written on first start.
ETCD_NAME=m1
ETCD_DATA_DIR=/var/lib/etcd
ETCD_LISTEN_PEER_URLS=https://10.0.0.11:2380
ETCD_LISTEN_CLIENT_URLS=https://10.0.0.11:2379,https://127.0.0.1:2379
ETCD_ADVERTISE_CLIENT_URLS=https://10.0.0.11:2379
ETCD_INITIAL_ADVERTISE_PEER_URLS=https://10.0.0.11:2380
ETCD_INITIAL_CLUSTER_TOKEN=proj-dev-etcd
ETCD_LISTEN_METRICS_URLS=http://127.0.0.1:2381
ETCD_HEARTBEAT_INTERVAL=100
ETCD_ELECTION_TIMEOUT=1000
ETCD_CERT_FILE=/etc/etcd/pki/server.crt
ETCD_KEY_FILE=/etc/etcd/pki/server.key
ETCD_TRUSTED_CA_FILE=/etc/etcd/pki/ca.crt
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_CERT_FILE=/etc/etcd/pki/peer.crt
ETCD_PEER_KEY_FILE=/etc/etcd/pki/peer.key
ETCD_PEER_TRUSTED_CA_FILE=/etc/etcd/pki/ca.crt
ETCD_PEER_CLIENT_CERT_AUTH=true
ETCD_STRICT_RECONFIG_CHECK=true
HAKUBE_EOF
put /etc/systemd/system/etcd.service 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (EtcdCluster etcd).
[Unit]
Description=etcd key-value store (hakube)
Documentation=https://etcd.io/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
User=etcd
Group=etcd
EnvironmentFile=/etc/etcd/etcd.env
EnvironmentFile=-/etc/etcd/cluster.env
ExecStart=/usr/local/bin/etcd
Restart=on-failure
RestartSec=2s
TimeoutStartSec=300
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
HAKUBE_EOF
# Certificates and keys: one line per file on stdin (path, mode, owner, base64).
while read -r _path _mode _owner _data; do
  [ -n "$_path" ] || continue
  (umask 077 && printf '%s' "$_data" | base64 -d > "$_path.hakube-in")
  put "$_path" "$_mode" "$_owner" < "$_path.hakube-in"
  rm -f "$_path.hakube-in"
done
if [ "$CHANGED" = 0 ]; then
  say "configuration is unchanged"
  exit 0
fi
systemctl daemon-reload
if systemctl is-active --quiet etcd; then
  eps=$(healthy_others | paste -sd, -)
  if [ -n "$eps" ]; then
    require_quorum_without_me "$eps" "$(voter_count "$eps")" "restart etcd on $NAME"
  fi
  systemctl restart --no-block etcd
  until healthy "$CLIENT_URL"; do
    in_time || fail "etcd on $NAME is not healthy $TIMEOUT s after a restart for the new configuration; see journalctl -u etcd"
    sleep 1
  done
  say "restarted with the new configuration and healthy"
fi
