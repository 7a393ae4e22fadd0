/**
 * Pure renderers for the scripts that EtcdCluster runs on members over SSH. Every script is POSIX sh,
 * idempotent, prints what it changed, and fails with a message that says what to do. Private keys never
 * appear here: they come on stdin (see renderFileBundle).
 *
 * Life of a member:
 * - install: etcd user, directories, binaries (release with sha256, package, or preinstalled).
 * - configure: env file, unit and certificates; on a running member a change restarts it, but only if the
 *   others keep quorum meanwhile. The configure steps of all members run one after another.
 * - member (create/update): first start. If another member is healthy the cluster exists, so this member
 *   joins it: `member add --learner`, start with state "existing", promote once in sync. Otherwise it
 *   bootstraps with every roster member in --initial-cluster. A member with data is only (re)started.
 * - member (delete): `member remove` through the others, refused if the rest would lose quorum, then stop
 *   etcd and delete its data.
 * - health gate: waits until every roster member is started, voting and healthy.
 *
 * This file renders the install step; the member-side scripts are in ./memberScripts.ts (re-exported).
 */
import { renderFileBundle, shAssignments, shFunctions } from "../../shell";
import { SH_APT } from "../../packages";
import { CONFIG_DIR, PKI_DIR } from "../defaults";
import { EtcdInstallSettings } from "../types";
import { InstallMethod } from "../../install";
import { show } from "../../show";
import { SH_VERSION_RULES } from "./versions";
import { prefix } from "./memberScripts";

export { renderFileBundle };
export {
  memberPkiFiles,
  memberPreamble,
  renderConfigureScript,
  renderHealthGateScript,
  renderMemberScript,
  renderRemoveScript,
} from "./memberScripts";

/** The etcd user and the directories it owns; shared by install (creates) and configure (checks). */
const SH_USER_AND_DIRS = `if ! getent passwd etcd >/dev/null; then
  useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin etcd
  say "created user etcd"
fi
install -d -m 0755 -o root -g root ${CONFIG_DIR}
install -d -m 0700 -o etcd -g etcd ${PKI_DIR}
install -d -m 0700 -o etcd -g etcd "$DATA_DIR"`;

/** Refuse etcd older than 3.4 (no learners). */
const SH_CHECK_VERSION = `[ -x "$BIN_DIR/etcd" ] && [ -x "$BIN_DIR/etcdctl" ] || fail "etcd and etcdctl are not in $BIN_DIR"
have=$("$BIN_DIR/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')
case "$have" in
  3.[4-9].*|3.[1-9][0-9].*|[4-9].*) say "etcd $have in $BIN_DIR" ;;
  *) fail "etcd in $BIN_DIR is version '$have'; hakube needs 3.4 or later (learners)" ;;
esac`;

/**
 * Put the binaries named in $bins from `from` into $BIN_DIR, each line indented by `indent`: all copied
 * beside the old ones first (`<name>.hakube-new`), then each renamed over its old one, so no binary is
 * ever half-written where etcd runs it. Shared by the install and the upgrade scripts.
 */
export function shInstallBinaries(from: string, indent: string): string {
  return [
    "for b in $bins; do",
    `  install -m 0755 "${from}/$b" "$BIN_DIR/$b.hakube-new"`,
    "done",
    "for b in $bins; do",
    '  mv -f "$BIN_DIR/$b.hakube-new" "$BIN_DIR/$b"',
    "done",
  ]
    .map((line) => indent + line)
    .join("\n");
}

/**
 * On a member that has data and runs another version, the release is only staged (in $STAGE): the
 * upgrade step puts it in place one member at a time (render/upgrade.ts).
 */
const SH_INSTALL_RELEASE = `${SH_VERSION_RULES}
have=$("$BIN_DIR/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p' || true)
staged=$("$STAGE/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p' || true)
if [ -n "$have" ] && [ "$have" != "$VERSION" ] && [ -d "$DATA_DIR/member" ]; then
  # An upgrade: a downgrade or a skipped minor is refused before anything is downloaded (the upgrade
  # step checks every member and the cluster version again before it changes anything).
  check_step "$MEMBER" "$have"
fi
if [ "$have" = "$VERSION" ] && [ -x "$BIN_DIR/etcdctl" ]; then
  say "etcd $VERSION is already installed in $BIN_DIR"
elif [ -n "$have" ] && [ -d "$DATA_DIR/member" ] && [ "$staged" = "$VERSION" ]; then
  say "etcd $VERSION is already staged in $STAGE for the upgrade step (etcd $have runs)"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$tmp/etcd.tar.gz" "$URL" || fail "download of $URL failed; nothing was installed"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$tmp/etcd.tar.gz" "$URL" || fail "download of $URL failed; nothing was installed"
  else
    fail "neither curl nor wget is installed; install one, or use install.method package or preinstalled"
  fi
  got=$(sha256sum "$tmp/etcd.tar.gz" | cut -d' ' -f1)
  [ "$got" = "$SHA256" ] || fail "sha256 mismatch for $URL: expected $SHA256, got $got; nothing was installed"
  tar -xzf "$tmp/etcd.tar.gz" -C "$tmp"
  dir="$tmp/$(basename "$URL" .tar.gz)"
  [ -x "$dir/etcd" ] && [ -x "$dir/etcdctl" ] || fail "$URL has no $(basename "$dir")/etcd and etcdctl; nothing was installed"
  # etcdutl (3.5+: snapshot status and restore) when the release has it
  bins="etcd etcdctl$(if [ -x "$dir/etcdutl" ]; then echo ' etcdutl'; fi)"
  if [ -n "$have" ] && [ -d "$DATA_DIR/member" ]; then
    # An upgrade: staged only; the running etcd and its binaries are not touched.
    rm -rf "$STAGE.hakube-new"
    install -d -m 0755 "$STAGE.hakube-new"
    for b in $bins; do
      install -m 0755 "$dir/$b" "$STAGE.hakube-new/$b"
    done
    rm -rf "$STAGE"
    mv "$STAGE.hakube-new" "$STAGE"
    say "staged etcd $VERSION in $STAGE (sha256 verified; etcd $have runs): the upgrade step installs it one member at a time"
  else
    install -d -m 0755 "$BIN_DIR"
${shInstallBinaries("$dir", "    ")}
    say "installed etcd $VERSION from $URL (sha256 verified)"
  fi
fi`;

/**
 * Package install (after cloud-init, waiting for apt's locks: components/packages.ts). On apt systems a
 * temporary policy-rc.d keeps the package from starting its own etcd with its default (plain-HTTP)
 * configuration; hakube's unit in /etc/systemd/system replaces the vendor's.
 */
const SH_INSTALL_PACKAGE = `${SH_APT}
if [ -x "$BIN_DIR/etcd" ] && [ -x "$BIN_DIR/etcdctl" ]; then
  say "etcd is already installed in $BIN_DIR"
elif command -v apt-get >/dev/null 2>&1; then
  wait_for_cloud_init
  (no_service_start && apt_install etcd-server etcd-client) || fail "apt-get install etcd-server etcd-client failed"
  say "installed etcd-server and etcd-client with apt-get"
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y -q etcd >/dev/null || fail "dnf install etcd failed"
  say "installed etcd with dnf"
elif command -v yum >/dev/null 2>&1; then
  yum install -y -q etcd >/dev/null || fail "yum install etcd failed"
  say "installed etcd with yum"
else
  fail "no supported package manager (apt-get, dnf, yum); use install.method release or preinstalled"
fi`;

/** Install etcd and prepare the user and directories. */
export function renderInstallScript(s: EtcdInstallSettings): string {
  const vars: Array<[string, string]> = [
    ["BIN_DIR", s.binDir],
    ["DATA_DIR", s.dataDir],
  ];
  let body: string;
  switch (s.method) {
    case InstallMethod.Release:
      if (!s.version || !s.url || !s.sha256) throw new Error("release install needs version, url and sha256");
      vars.push(
        ["VERSION", s.version.replace(/^v/, "")],
        ["URL", s.url],
        ["SHA256", s.sha256],
        ["STAGE", s.stageDir ?? `${s.dataDir}.stage`],
        ["MEMBER", s.name],
      );
      body = SH_INSTALL_RELEASE;
      break;
    case InstallMethod.Package:
      body = SH_INSTALL_PACKAGE;
      break;
    case InstallMethod.Preinstalled:
      body = `say "install.method is preinstalled: checking $BIN_DIR"`;
      break;
    default:
      throw new Error(`unknown install method ${show(s.method)}`);
  }
  return [
    `# hakube EtcdCluster ${s.cluster}: install etcd on ${s.name} (${s.method})`,
    "set -eu",
    shAssignments(vars),
    shFunctions(prefix(s.cluster, s.name)),
    body,
    SH_CHECK_VERSION,
    SH_USER_AND_DIRS,
    "",
  ].join("\n");
}
