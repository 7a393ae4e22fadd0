/**
 * EtcdCluster day 2: recovery from lost quorum (`recoverQuorum`). Args, validation and the member script's
 * recovery block. Pure: no Pulumi import.
 *
 * When a majority of the members is gone for good (2 of 3 hosts dead, their data lost), the cluster
 * cannot elect a leader and refuses every write; etcd's documented way out is to restart one surviving
 * member with `--force-new-cluster`, which keeps its data and makes it the only member, and then to add
 * the others back. hakube does exactly that, driven by the args:
 *
 * - the survivor (`recoverQuorum.from`) runs its member step first. If it is healthy, or another member
 *   is, nothing is forced (quorum is not lost, or this recovery already ran). Otherwise etcd is restarted
 *   once with ETCD_FORCE_NEW_CLUSTER=true, and again without it as soon as it is healthy alone, so that a
 *   later restart never forces anything. A marker (`/etc/etcd/recovered-quorum`) records the recovery's
 *   `id`: the same `recoverQuorum` never forces twice.
 * - every other member then joins the survivor as before (learner, promoted once in sync), one at a time.
 *   A member whose stale data is no longer a member of the survivor's cluster has that data moved aside to
 *   `<dataDir>.before-recovery-<time>` (never deleted) and joins fresh; a member never bootstraps a cluster
 *   of its own while `recoverQuorum` is set.
 *
 * Writes the survivor had acknowledged are kept; writes only a lost majority had seen (none, if the
 * survivor was a voter in sync) are gone. Remove `recoverQuorum` once the cluster is healthy.
 */
import { shAssignments } from "../shell";
import { Problem, show } from "../validation";

/** Recovery from lost quorum: a new cluster forced from one surviving member, which the others rejoin. */
export interface EtcdRecoverQuorumArgs {
  /** The surviving member (a name in `members`) whose data becomes the cluster's. */
  from: string;
  /**
   * Names this recovery (such as the date): a member forces a new cluster at most once per id, so a
   * `recoverQuorum` left in the program never forces again after a later outage. @default "1"
   */
  id?: string;
}

export const RECOVERED_QUORUM_MARK_FILE = "/etc/etcd/recovered-quorum";

/** What the member script needs (every member gets it: the survivor recovers, the others rejoin). */
export interface EtcdRecoverySettings {
  from: string;
  /** The survivor's client URL. */
  fromUrl: string;
  id: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Problems in EtcdClusterArgs.recoverQuorum; `members` are the member names. */
export function recoverQuorumProblems(r: unknown, members: unknown[], restoring: boolean): Problem[] {
  if (r === undefined) return [];
  if (!isObject(r)) {
    return [
      {
        path: "recoverQuorum",
        message: `recoverQuorum must be an object with from (the surviving member's name), got ${show(r)}`,
      },
    ];
  }
  const p: Problem[] = [];
  const names = members
    .map((m) => (isObject(m) ? m.name : undefined))
    .filter((n): n is string => typeof n === "string");
  if (typeof r.from !== "string" || !names.includes(r.from)) {
    p.push({
      path: "recoverQuorum.from",
      message: `recoverQuorum.from must name one of the members (${names.join(", ")}), the survivor whose data is kept, got ${show(r.from)}`,
    });
  }
  if (r.id !== undefined && (typeof r.id !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(r.id))) {
    p.push({
      path: "recoverQuorum.id",
      message: `recoverQuorum.id must be 1-64 letters, digits, '.', '_' or '-', got ${show(r.id)}`,
    });
  }
  if (restoring) {
    p.push({
      path: "recoverQuorum",
      message: `recoverQuorum and restoreFrom exclude each other: recover from a surviving member's data, or restore every member from a snapshot, got both`,
    });
  }
  return p;
}

/** The warning while recoverQuorum is set. */
export function recoverQuorumWarning(r: EtcdRecoverQuorumArgs): Problem {
  return {
    path: "recoverQuorum",
    message: `recoverQuorum is set (from ${show(r.from)}): members without quorum are recovered from ${r.from}'s data; remove it once the cluster is healthy`,
  };
}

/**
 * The member script's recovery block (after its helpers, before the first-start logic). Needs the member
 * script's $NAME, $DATA_DIR, $CLUSTER_ENV, healthy, healthy_others, my_line, put, say and fail. A member
 * other than the survivor fails here unless the survivor is healthy, so it can only join the survivor.
 */
export function renderRecoveryBlock(r: EtcdRecoverySettings): string {
  return [
    shAssignments([
      ["RECOVER_FROM", r.from],
      ["RECOVER_URL", r.fromUrl],
      ["RECOVER_ID", r.id],
      ["RECOVERED_MARK", RECOVERED_QUORUM_MARK_FILE],
    ]),
    `wait_healthy() {
  until healthy "$CLIENT_URL"; do
    in_time || fail "etcd on $NAME is not healthy $TIMEOUT s after $1; see journalctl -u etcd"
    sleep 1
  done
}
if [ "$NAME" = "$RECOVER_FROM" ]; then
  [ -d "$DATA_DIR/member" ] || fail "recoverQuorum.from is $NAME, but $NAME has no data in $DATA_DIR/member: name the member that kept its data"
  if healthy "$CLIENT_URL"; then
    say "healthy: quorum is not lost (or already recovered), nothing forced"
  elif [ -f "$RECOVERED_MARK" ] && [ "$(cat "$RECOVERED_MARK")" = "$RECOVER_ID" ]; then
    fail "$NAME already forced a new cluster for recoverQuorum.id $RECOVER_ID and is not healthy now; find out why (journalctl -u etcd), or give a new recoverQuorum.id to force again"
  elif [ -n "$(healthy_others)" ]; then
    fail "refusing to force a new cluster from $NAME: other members are healthy ($(healthy_others | paste -sd, -)), so quorum is not lost; see why $NAME is not (journalctl -u etcd)"
  else
    # Keep the first-start file as it is; add the flag for one start only.
    [ -f "$CLUSTER_ENV" ] && cp -p "$CLUSTER_ENV" "$CLUSTER_ENV.before-recovery"
    systemctl stop etcd 2>/dev/null || true
    { [ ! -f "$CLUSTER_ENV.before-recovery" ] || cat "$CLUSTER_ENV.before-recovery"; echo "ETCD_FORCE_NEW_CLUSTER=true"; } > "$CLUSTER_ENV"
    systemctl start --no-block etcd
    wait_healthy "--force-new-cluster"
    if [ -f "$CLUSTER_ENV.before-recovery" ]; then mv -f "$CLUSTER_ENV.before-recovery" "$CLUSTER_ENV"; else rm -f "$CLUSTER_ENV"; fi
    printf '%s\\n' "$RECOVER_ID" | put "$RECOVERED_MARK" 0644 root:root
    systemctl restart --no-block etcd
    wait_healthy "the restart without --force-new-cluster"
    say "forced a new cluster from $NAME's data (recoverQuorum.id $RECOVER_ID): $NAME is its only member now; the others join as learners"
  fi
else
  healthy "$RECOVER_URL" || fail "recoverQuorum: the survivor $RECOVER_FROM ($RECOVER_URL) is not healthy, so $NAME cannot rejoin; its member step recovers it first (see its output)"
  if [ -d "$DATA_DIR/member" ]; then
    line=$(my_line "$RECOVER_URL") || fail "member list through $RECOVER_URL failed"
    if [ -z "$line" ]; then
      # Stale data of a member the survivor no longer has: moved aside, then the member joins fresh.
      systemctl stop etcd 2>/dev/null || true
      aside="$DATA_DIR.before-recovery-$(date -u +%Y%m%dT%H%M%SZ)"
      install -d -m 0700 -o etcd -g etcd "$aside"
      mv "$DATA_DIR/member" "$aside/member"
      rm -f "$CLUSTER_ENV"
      say "$NAME is no longer a member of $RECOVER_FROM's cluster: its old data moved aside to $aside; joining"
    fi
  fi
fi`,
  ].join("\n");
}
