/**
 * Pure renderers for the member-side scripts of EtcdCluster (./scripts.ts renders the install step):
 * - configure: env file, unit and certificates; on a running member a change restarts it, but only if the
 *   others keep quorum meanwhile. The configure steps of all members run one after another.
 * - member (create/update): first start. If another member is healthy the cluster exists, so this member
 *   joins it: `member add --learner`, start with state "existing", promote once in sync. If none is
 *   healthy but one answers for a formed cluster (it lists started members: an election, or quorum lost),
 *   it looks again for ELECTION_SETTLE_SECONDS and then joins or refuses, never bootstrapping beside it.
 *   Otherwise it bootstraps with every roster member in --initial-cluster. A member with data is only
 *   (re)started.
 * - member (delete): `member remove` through the others, refused if the rest would lose quorum (a leader
 *   first hands leadership to a healthy voting member), then stop etcd and delete its data.
 * - health gate: waits until every roster member is started, voting and healthy.
 */
import { heredoc, shAssignments, shFunctions, SH_PUT_BUNDLE_FROM_STDIN, HostFile } from "../../shell";
import {
  CLUSTER_ENV_FILE,
  CONFIG_DIR,
  ELECTION_SETTLE_SECONDS,
  ENV_FILE,
  PKI_DIR,
  ROSTER_FILE,
  UNIT_FILE,
} from "../defaults";
import { EtcdMemberSettings } from "../types";
import { memberUrls, PKI_FILES, renderEnvFile, renderUnit } from "./config";
import { renderRestoreBlock } from "./restore";
import { renderRecoveryBlock } from "../recovery";

/** The prefix of every line a script prints. */
export function prefix(cluster: string, name: string): string {
  return `hakube etcd ${cluster}/${name}`;
}

/** Variables and helpers that the member-side scripts share (the upgrade script's too). */
export function memberPreamble(s: EtcdMemberSettings, what: string): string {
  const urls = memberUrls(s.address, s.clientPort, s.peerPort);
  return [
    `# hakube EtcdCluster ${s.cluster}: ${what} on ${s.name}`,
    "set -eu",
    shAssignments([
      ["NAME", s.name],
      ["CLIENT_URL", urls.client],
      ["PEER_URL", urls.peer],
      ["DATA_DIR", s.dataDir],
      ["ETCDCTL", `${s.binDir}/etcdctl`],
      ["TIMEOUT", s.healthTimeoutSeconds],
      ["ROSTER", ROSTER_FILE],
      ["CLUSTER_ENV", CLUSTER_ENV_FILE],
    ]),
    shFunctions(prefix(s.cluster, s.name)),
    SH_ETCD_FUNCTIONS,
  ].join("\n");
}

/**
 * etcdctl with this member's server certificate (it carries clientAuth), short timeouts, and helpers
 * over `member list -w simple` (fields: id, status, name, peerURLs, clientURLs, isLearner).
 */
export const SH_ETCD_FUNCTIONS = `ctl() { ETCDCTL_API=3 "$ETCDCTL" --cacert=${PKI_FILES.ca} --cert=${PKI_FILES.serverCert} --key=${PKI_FILES.serverKey} --dial-timeout=2s --command-timeout=5s "$@"; }
deadline=$(( $(date +%s) + TIMEOUT ))
in_time() { [ "$(date +%s)" -lt "$deadline" ]; }
# Is the member at $1 healthy (leader known, a read goes through)? A healthy member answers in
# milliseconds; one that is not yet serving (bootstrapping without quorum) is given up on after 2 s.
# With curl, a member that is not even listening fails at once (connection refused), where etcdctl
# would wait out its whole timeout: that keeps a bootstrap from paying 2 s per absent member.
healthy() {
  if [ -n "$CURL" ]; then
    "$CURL" -s --max-time 2 --cacert ${PKI_FILES.ca} --cert ${PKI_FILES.serverCert} --key ${PKI_FILES.serverKey} "$1/health" 2>/dev/null | grep -q '"health":"true"'
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
# Run "$@" until it succeeds, again every second for up to ${ELECTION_SETTLE_SECONDS} s (within TIMEOUT); status 1 if it never did.
# During an election (after the leader left or stepped down) every member's /health fails for a moment.
until_settled() {
  _until=$(( $(date +%s) + ${ELECTION_SETTLE_SECONDS} ))
  until "$@"; do
    [ "$(date +%s)" -lt "$_until" ] && in_time || return 1
    sleep 1
  done
}
# The healthy other members, comma-separated, looked for again until settled: empty only if none is.
found_healthy_others() { _eps=$(healthy_others | paste -sd, -); [ -n "$_eps" ]; }
healthy_others_settled() {
  until_settled found_healthy_others || true
  printf '%s\n' "$_eps"
}
members() { ctl --endpoints="$1" member list -w simple; }
# endpoint status -w fields ("Version" : "3.5.16", "MemberID" : 123, "Leader" : 123): the same keys in
# every etcdctl from 3.4 on, where the columns of -w simple moved in 3.6.
fields_of() { ctl --endpoints="$1" endpoint status -w fields 2>/dev/null || true; }
field() { awk -F' : ' -v k="\\"$1\\"" '$1 == k { gsub(/"/, "", $2); print $2; exit }'; }
is_leader() {
  _f=$(fields_of "$CLIENT_URL")
  _me=$(printf '%s\\n' "$_f" | field MemberID)
  [ -n "$_me" ] && [ "$_me" = "$(printf '%s\\n' "$_f" | field Leader)" ]
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
}`;

/** Write env file, unit and certificates; restart a running member if they changed (quorum permitting). */
export function renderConfigureScript(s: EtcdMemberSettings): string {
  return [
    memberPreamble(s, "configure"),
    `getent passwd etcd >/dev/null || fail "user etcd does not exist: the install step must run first"`,
    `install -d -m 0755 -o root -g root ${CONFIG_DIR}`,
    `install -d -m 0700 -o etcd -g etcd ${PKI_DIR}`,
    heredoc(`put ${ENV_FILE} 0644 root:root`, renderEnvFile(s)),
    heredoc(`put ${UNIT_FILE} 0644 root:root`, renderUnit(s)),
    "# Certificates and keys: one line per file on stdin (path, mode, owner, base64).",
    SH_PUT_BUNDLE_FROM_STDIN,
    `if [ "$CHANGED" = 0 ]; then
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
fi`,
    "",
  ].join("\n");
}

/** First start: bootstrap or join (see the header). stdin: the roster. */
export function renderMemberScript(s: EtcdMemberSettings): string {
  return [
    memberPreamble(s, "start and join"),
    `(umask 022 && cat > "$ROSTER.new") && mv -f "$ROSTER.new" "$ROSTER"
grep -q "^$NAME " "$ROSTER" || fail "the roster on stdin does not list $NAME"
ADDED=0
JOINING=0
EPS=""
start_etcd() { systemctl enable --quiet etcd; systemctl start --no-block etcd; }
write_cluster_env() { printf 'ETCD_INITIAL_CLUSTER=%s\\nETCD_INITIAL_CLUSTER_STATE=%s\\n' "$1" "$2" | put "$CLUSTER_ENV" 0644 root:root; }
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
  _id=\${_line%%,*}
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
  case "$ic" in unknown:*) rollback "the cluster lists members that are in no roster and have not started (\${ic#unknown:}); remove them with etcdctl member remove" ;; esac
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
}`,
    // restoreFrom: restore and start, or fall through when the data is already this restore's.
    ...(s.restore ? [renderRestoreBlock({ ...s, restore: s.restore })] : []),
    // recoverQuorum: the survivor forces a new cluster; the others may only join it.
    ...(s.recovery ? [renderRecoveryBlock(s.recovery)] : []),
    `if [ -d "$DATA_DIR/member" ]; then
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
  say "the other members form a cluster but none is healthy now (an election, or quorum lost): looking again for up to ${ELECTION_SETTLE_SECONDS} s"
  eps=$(healthy_others_settled)
  [ -n "$eps" ] || fail "refusing to start $NAME: the other members already form a cluster, but none of them is healthy, so $NAME can neither join it nor bootstrap a new one; bring back enough members for quorum (or recover it with recoverQuorum), then run again"
fi
if [ -n "$eps" ]; then join "$eps"; else bootstrap; fi`,
    "",
  ].join("\n");
}

/** Leave the cluster: `member remove` through the others (quorum permitting), then stop and wipe. */
export function renderRemoveScript(s: EtcdMemberSettings): string {
  return [
    memberPreamble(s, "leave the cluster"),
    `cleanup() { systemctl disable --now --quiet etcd 2>/dev/null || true; rm -rf "$DATA_DIR/member" "$CLUSTER_ENV" "$ROSTER"; }
if [ ! -d "$DATA_DIR/member" ] && ! systemctl is-active --quiet etcd; then
  cleanup
  say "not initialized: nothing to remove"
  exit 0
fi
eps=$(healthy_others_settled)
if [ -z "$eps" ]; then
  if healthy "$CLIENT_URL" && [ "$(members "$CLIENT_URL" | wc -l)" -le 1 ]; then
    cleanup
    say "removed the last member: the cluster is gone"
    exit 0
  fi
  fail "refusing to remove $NAME: no other member is healthy, so the removal cannot be recorded; bring the other members back first"
fi
line=$(my_line "$eps")
if [ -n "$line" ]; then
  case "$line" in *", false") require_quorum_without_me "$eps" $(( $(voter_count "$eps") - 1 )) "remove $NAME" ;; esac
  # A leader hands over first, so that the others need not wait out an election timeout.
  if is_leader; then
    to=$(members "$eps" | awk -F', ' -v p="$PEER_URL" '$2 == "started" && $6 == "false" && $4 != p { split($5, a, ","); print $3, a[1] }' | while read -r n u; do if healthy "$u"; then echo "$n"; break; fi; done)
    if [ -n "$to" ] && hand_leadership_to "$to"; then
      say "handed leadership to $to before the removal"
    else
      say "removing the leader without a handover (\${_why:-no healthy voting member to take it}): the others elect a new one"
    fi
  fi
  id=\${line%%,*}
  until out=$(ctl --endpoints="$eps" member remove "$id" 2>&1); do
    in_time || fail "member remove $NAME failed for $TIMEOUT s: $out"
    sleep 1
  done
  say "removed from the cluster"
fi
cleanup
say "etcd stopped and its data deleted"`,
    "",
  ].join("\n");
}

/** Wait until every roster member (stdin) is started, voting and healthy; print the cluster's status. */
export function renderHealthGateScript(s: EtcdMemberSettings): string {
  return [
    memberPreamble(s, "cluster health gate"),
    `want=$(cat)
all=$(printf '%s\\n' "$want" | awk '{ print $3 }' | paste -sd, -)
status() {
  _list=$(members "$all" 2>/dev/null || true)
  printf '%s\\n' "$want" | while read -r n p c; do
    _m=$(printf '%s\\n' "$_list" | awk -F', ' -v p="$p" '$4 == p { print ($2 == "started" ? "started" : "unstarted") ($6 == "true" ? " learner" : "") }')
    if healthy "$c"; then _h=healthy; else _h=unhealthy; fi
    echo "$n $c \${_m:-absent} $_h"
  done
}
while :; do
  report=$(status)
  if ! printf '%s\\n' "$report" | grep -qv ' started healthy$'; then
    say "cluster healthy: $(printf '%s\\n' "$want" | wc -l) members started, voting and healthy"
    ctl --endpoints="$all" endpoint status -w simple 2>/dev/null | awk -F', ' '$5 == "true" { print "leader: " $1 }' || true
    exit 0
  fi
  in_time || fail "cluster not healthy after $TIMEOUT s:
$report"
  sleep 1
done`,
    "",
  ].join("\n");
}

/** The secret files of a member, for the configure step's stdin. */
export function memberPkiFiles(pem: {
  ca: string;
  serverCert: string;
  serverKey: string;
  peerCert: string;
  peerKey: string;
}): HostFile[] {
  const own = (path: string, content: string): HostFile => ({
    path,
    mode: "0600",
    owner: "etcd:etcd",
    content,
  });
  return [
    own(PKI_FILES.ca, pem.ca),
    own(PKI_FILES.serverCert, pem.serverCert),
    own(PKI_FILES.serverKey, pem.serverKey),
    own(PKI_FILES.peerCert, pem.peerCert),
    own(PKI_FILES.peerKey, pem.peerKey),
  ];
}
