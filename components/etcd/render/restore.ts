/**
 * Pure renderer for `restoreFrom`: the part of the member script that builds this member's data from a
 * snapshot before its first start. No Pulumi import.
 *
 * Every member restores the same snapshot (sha256 checked first) with the new cluster's membership: its
 * name, its peer URL, every roster member in --initial-cluster and a token of its own (the cluster's token
 * plus the snapshot's hash), so the restored cluster has a new cluster ID and a member of the old one can
 * never join it. etcdutl (3.5+) restores where it is installed, etcdctl (3.4) otherwise; where etcdutl has
 * `--bump-revision` (checked with its --help: etcd 3.6, and 3.5 releases with the backport) the revision jumps by `bumpRevision` and the old revisions are marked
 * compacted (etcd issue 16028), so that Kubernetes' watch caches cannot serve data from before the
 * restore. The restore goes to a scratch directory and is moved into the data directory when complete.
 *
 * Refusals: a member that already has data (`<dataDir>/member`) is not touched unless `force` is set (then
 * its data is moved aside to `<dataDir>.before-restore-<UTC time>`, never deleted); a member whose data
 * came from this very snapshot (RESTORED_MARK_FILE holds its sha256) is only started, so re-running the
 * step is harmless.
 */
import { shAssignments } from "../../shell";
import { RESTORED_MARK_FILE } from "../backup";
import { EtcdMemberSettings } from "../types";

/** What a member needs to restore. */
export interface EtcdRestoreSettings {
  path: string;
  sha256: string;
  force: boolean;
  /** The restored cluster's token: new, so that its cluster ID differs from the old cluster's. */
  token: string;
  /** Added to the revision where etcdutl has --bump-revision; 0: never. */
  bumpRevision: number;
}

/**
 * Shell for the member script (after its roster and helpers, before the first-start logic): restores and
 * starts this member and exits, or falls through when the member's data is already this restore's.
 * Needs $NAME, $PEER_URL, $DATA_DIR, $ETCDCTL, $ROSTER, start_etcd, write_cluster_env, say and fail.
 */
export function renderRestoreBlock(s: EtcdMemberSettings & { restore: EtcdRestoreSettings }): string {
  const r = s.restore;
  return [
    shAssignments([
      ["RESTORE_FILE", r.path],
      ["RESTORE_SHA256", r.sha256],
      ["RESTORE_FORCE", r.force ? 1 : 0],
      ["RESTORE_TOKEN", r.token],
      ["RESTORED_MARK", RESTORED_MARK_FILE],
      ["ETCDUTL", `${s.binDir}/etcdutl`],
      ["BUMP_REVISION", r.bumpRevision],
    ]),
    `restored_here() { [ -f "$RESTORED_MARK" ] && [ "$(cat "$RESTORED_MARK")" = "$RESTORE_SHA256" ]; }
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
  printf '%s\\n' "$RESTORE_SHA256" | put "$RESTORED_MARK" 0644 root:root
  start_etcd
  say "restored from $RESTORE_FILE (sha256 $RESTORE_SHA256) as a member of $ic\${bump:+ with $bump}; started (the health gate waits for quorum)"
  exit 0
fi`,
  ].join("\n");
}
