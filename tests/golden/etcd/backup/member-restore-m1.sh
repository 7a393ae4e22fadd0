# hakube EtcdCluster etcd: start and join on m1
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
(umask 022 && cat > "$ROSTER.new") && mv -f "$ROSTER.new" "$ROSTER"
grep -q "^$NAME " "$ROSTER" || fail "the roster on stdin does not list $NAME"
ADDED=0
JOINING=0
EPS=""
start_etcd() { systemctl enable --quiet etcd; systemctl start --no-block etcd; }
write_cluster_env() { printf 'ETCD_INITIAL_CLUSTER=%s\nETCD_INITIAL_CLUSTER_STATE=%s\n' "$1" "$2" | put "$CLUSTER_ENV" 0644 root:root; }
# Undo a failed first join (nothing half-applied); an established member is never wiped.
rollback() {
  [ "$JOINING" = 1 ] || fail "$1"
  systemctl disable --now --quiet etcd || true
  if [ "$ADDED" = 1 ]; then
    _id=$(my_line "$EPS" | cut -d, -f1)
    [ -z "$_id" ] || ctl --endpoints="$EPS" member remove "$_id" >/dev/null || true
  fi
  rm -rf "$DATA_DIR/member" "$CLUSTER_ENV"
  fail "$1; rolled back: etcd stopped, data removed$( [ "$ADDED" = 1 ] && echo ', member removed again')"
}
promote_if_learner() {
  _line=$(my_line "$1")
  [ -n "$_line" ] || fail "$NAME is not a member of the cluster at $1"
  case "$_line" in *", true") ;; *) return 0 ;; esac
  _id=${_line%%,*}
  _voters=$(voter_count "$1")
  _up=$(healthy_voters_except_me "$1")
  _need=$(quorum $((_voters + 1)))
  [ $((_up + 1)) -ge "$_need" ] || rollback "refusing to promote $NAME: $((_voters + 1)) voting members would need a quorum of $_need, but only $_up other voters are healthy"
  until _out=$(ctl --endpoints="$1" member promote "$_id" 2>&1); do
    in_time || rollback "learner $NAME was not promoted within $TIMEOUT s: $_out"
    sleep 1
  done
  say "promoted from learner to voting member"
}
# The initial cluster for joining: every member's name=peerURL; names come from the roster because a
# member that was added but has not started yet has none.
existing_cluster() {
  members "$1" | awk -F', ' -v rf="$ROSTER" '
    BEGIN { while ((getline l < rf) > 0) { split(l, f, " "); byPeer[f[2]] = f[1] } }
    { n = ($4 in byPeer) ? byPeer[$4] : $3
      if (n == "") { bad = bad " " $4; next }
      k = split($4, u, ","); for (i = 1; i <= k; i++) out = out (out == "" ? "" : ",") n "=" u[i] }
    END { if (bad != "") print "unknown:" bad; else print out }'
}
join() {
  EPS="$1"
  JOINING=1
  if [ -z "$(my_line "$EPS")" ]; then
    until _out=$(ctl --endpoints="$EPS" member add "$NAME" --peer-urls="$PEER_URL" --learner 2>&1); do
      in_time || fail "member add $NAME failed for $TIMEOUT s: $_out"
      sleep 1
    done
    ADDED=1
    say "added to the cluster as a learner"
  fi
  ic=$(existing_cluster "$EPS")
  case "$ic" in unknown:*) rollback "the cluster lists members that are in no roster and have not started (${ic#unknown:}); remove them with etcdctl member remove" ;; esac
  write_cluster_env "$ic" existing
  start_etcd
  until systemctl is-active --quiet etcd; do
    in_time || rollback "etcd on $NAME did not start within $TIMEOUT s; see journalctl -u etcd"
    sleep 1
  done
  promote_if_learner "$EPS"
  until healthy "$CLIENT_URL"; do
    in_time || rollback "etcd on $NAME did not become healthy within $TIMEOUT s"
    sleep 1
  done
  say "joined the cluster through $EPS"
}
bootstrap() {
  ic=$(awk '{ printf "%s%s=%s", (NR > 1 ? "," : ""), $1, $2 } END { print "" }' "$ROSTER")
  write_cluster_env "$ic" new
  start_etcd
  say "bootstrapping a new cluster: $ic (the health gate waits for quorum)"
}
RESTORE_FILE='/root/s.db'
RESTORE_SHA256='bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
RESTORE_FORCE='0'
RESTORE_TOKEN='proj-dev-etcd-restore-bbbbbbbbbbbb'
RESTORED_MARK='/etc/etcd/restored-from'
ETCDUTL='/usr/local/bin/etcdutl'
BUMP_REVISION='1000000000'
restored_here() { [ -f "$RESTORED_MARK" ] && [ "$(cat "$RESTORED_MARK")" = "$RESTORE_SHA256" ]; }
if [ -d "$DATA_DIR/member" ] && restored_here; then
  say "data already restored from snapshot $RESTORE_SHA256"
elif [ -d "$DATA_DIR/member" ] && [ "$RESTORE_FORCE" != 1 ]; then
  fail "refusing to restore $RESTORE_FILE: $NAME already has data in $DATA_DIR/member; restore builds a new cluster, so remove the data first or set restoreFrom.force (the data is then moved aside, not deleted)"
else
  [ -f "$RESTORE_FILE" ] || fail "restoreFrom.path $RESTORE_FILE is not on $NAME: copy the snapshot to every member first"
  got=$(sha256sum "$RESTORE_FILE" | cut -d' ' -f1)
  [ "$got" = "$RESTORE_SHA256" ] || fail "$RESTORE_FILE has sha256 $got, expected $RESTORE_SHA256: nothing was restored"
  systemctl stop etcd 2>/dev/null || true
  if [ -d "$DATA_DIR/member" ]; then
    aside="$DATA_DIR.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    install -d -m 0700 -o etcd -g etcd "$aside"
    mv "$DATA_DIR/member" "$aside/member"
    say "moved the old data aside to $aside (restoreFrom.force)"
  fi
  ic=$(awk '{ printf "%s%s=%s", (NR > 1 ? "," : ""), $1, $2 } END { print "" }' "$ROSTER")
  scratch="$DATA_DIR.restore-tmp"
  rm -rf "$scratch"
  # etcdutl (3.5+; etcd 3.6 has no etcdctl snapshot restore), else etcdctl (3.4)
  if [ -x "$ETCDUTL" ]; then tool=$ETCDUTL; else tool=$ETCDCTL; fi
  # Revision bump where etcdutl has it (its --help says): Kubernetes' watch caches never serve data older than the restore.
  bump=""
  if [ "$BUMP_REVISION" -gt 0 ] && [ "$tool" = "$ETCDUTL" ] && "$tool" snapshot restore --help 2>&1 | grep -q -- --bump-revision; then
    bump="--bump-revision $BUMP_REVISION --mark-compacted"
  fi
  out=$(ETCDCTL_API=3 "$tool" snapshot restore "$RESTORE_FILE" --name "$NAME" --initial-cluster "$ic" --initial-cluster-token "$RESTORE_TOKEN" --initial-advertise-peer-urls "$PEER_URL" --data-dir "$scratch" $bump 2>&1) || fail "$(basename "$tool") snapshot restore failed: $out"
  install -d -m 0700 -o etcd -g etcd "$DATA_DIR"
  mv "$scratch/member" "$DATA_DIR/member"
  rm -rf "$scratch"
  chown -R etcd:etcd "$DATA_DIR/member"
  write_cluster_env "$ic" new
  printf '%s\n' "$RESTORE_SHA256" | put "$RESTORED_MARK" 0644 root:root
  start_etcd
  say "restored from $RESTORE_FILE (sha256 $RESTORE_SHA256) as a member of $ic${bump:+ with $bump}; started (the health gate waits for quorum)"
  exit 0
fi
if [ -d "$DATA_DIR/member" ]; then
  start_etcd
  # A learner whose promotion failed earlier is promoted now; a voting member is left alone.
  case "$(my_line "$CLIENT_URL" 2>/dev/null || true)" in
    *", true")
      eps=$(healthy_others | paste -sd, -)
      [ -z "$eps" ] || promote_if_learner "$eps"
      ;;
  esac
  say "already initialized; etcd is $(systemctl is-active etcd || true)"
  exit 0
fi
eps=$(healthy_others | paste -sd, -)
# No healthy member, but a formed cluster answers: join it once it has a leader again; never bootstrap a
# second cluster beside it (that member could not join it later without wiping its data).
if [ -z "$eps" ] && formed_cluster_answers; then
  say "the other members form a cluster but none is healthy now (an election, or quorum lost): looking again for up to 15 s"
  eps=$(healthy_others_settled)
  [ -n "$eps" ] || fail "refusing to start $NAME: the other members already form a cluster, but none of them is healthy, so $NAME can neither join it nor bootstrap a new one; bring back enough members for quorum (or recover it with recoverQuorum), then run again"
fi
if [ -n "$eps" ]; then join "$eps"; else bootstrap; fi
