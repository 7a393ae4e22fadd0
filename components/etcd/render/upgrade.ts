/**
 * The rolling upgrade (a changed `version`, release install): one member at a time, in member order, each
 * only while the others keep quorum, and the leader last. Pure: plain settings in, a POSIX sh script out.
 *
 * The install step (parallel) only stages the new release on a member that has data
 * (`<UPGRADE_STAGE_DIR>/v<version>`); this step, serial, on each member in turn:
 * 1. refuses a downgrade or a skipped minor, against every member's running version and the cluster
 *    version, before anything changes (the first member's step refuses before any member is touched);
 * 2. refuses unless the other voting members keep quorum while this one restarts;
 * 3. if this member leads, hands leadership over with `etcdctl move-leader`: to the last member of the
 *    order that still runs the old version (the one upgraded last), or, when every other member is
 *    upgraded, to one of them. So the leader is the last member restarted, and no member is restarted
 *    while it leads (the cluster waits for no election timeout);
 * 4. puts the staged binaries in place, restarts etcd, and returns only once the member is healthy and
 *    serves the new version, so the next member's step starts after it.
 * Re-running is harmless: a member that already runs `version` is left alone.
 */
import { shAssignments } from "../../shell";
import { EtcdMemberSettings } from "../types";
import { PKI_FILES } from "./config";
import { memberPreamble, shInstallBinaries } from "./scripts";
import { SH_VERSION_RULES } from "./versions";

/** What the upgrade step of one member needs besides its member settings. */
export interface EtcdUpgradeSettings {
  /** The target version, without "v". */
  version: string;
  /** Where the install step staged it. */
  stageDir: string;
  /** The members' names in the order the step runs through them. */
  order: string[];
}

const SH_UPGRADE = `bin_version() { "$1/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p'; }
server_version() { fields_of "$1" | field Version; }
# The cluster version (what every member supports; etcd moves it up once all run a new minor), from /version.
cluster_version() {
  [ -n "$CURL" ] || return 0
  "$CURL" -s --max-time 2 --cacert ${PKI_FILES.ca} --cert ${PKI_FILES.serverCert} --key ${PKI_FILES.serverKey} "$1/version" 2>/dev/null | sed -n 's/.*"etcdcluster":"\\([0-9.]*\\)".*/\\1/p'
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
  say "etcd $VERSION is installed\${running:+ and running}: nothing to upgrade"
  exit 0
fi
from=\${running:-$have}
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
    if [ "$(server_version "$u")" = "$VERSION" ]; then done_=\${done_:-$n}; else pending=$n; fi
  done
  to=\${pending:-$done_}
  if [ -n "$to" ]; then
    hand_leadership_to "$to" || fail "refusing to restart the leader $NAME: could not hand leadership to $to ($_why)"
    say "handed leadership to $to before the upgrade"
  fi
fi

# 4. The new binaries, a restart, and back to healthy on the new version.
if [ "$have" != "$VERSION" ]; then
  bins=$(cd "$STAGE" && ls etcd etcdctl etcdutl 2>/dev/null || true)
${shInstallBinaries("$STAGE", "  ")}
fi
started=$(date +%s)
systemctl restart --no-block etcd
until healthy "$CLIENT_URL" && [ "$(server_version "$CLIENT_URL")" = "$VERSION" ]; do
  in_time || fail "etcd on $NAME is not healthy on $VERSION $TIMEOUT s after the upgrade from $from; see journalctl -u etcd (the old binaries are gone: set version to $VERSION again once it is fixed)"
  sleep 1
done
rm -rf "$STAGE"
say "upgraded from etcd $from to $VERSION: healthy again after $(( $(date +%s) - started )) s"`;

/** The upgrade step of one member (release installs): see the header. */
export function renderUpgradeScript(s: EtcdMemberSettings, u: EtcdUpgradeSettings): string {
  return [
    memberPreamble(s, `upgrade etcd to ${u.version}`),
    shAssignments([
      ["VERSION", u.version],
      ["STAGE", u.stageDir],
      ["BIN_DIR", s.binDir],
      ["ORDER", u.order.join(" ")],
    ]),
    SH_VERSION_RULES,
    SH_UPGRADE,
    "",
  ].join("\n");
}
