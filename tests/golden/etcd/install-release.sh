# hakube EtcdCluster etcd: install etcd on m1 (release)
set -eu
BIN_DIR='/usr/local/bin'
DATA_DIR='/var/lib/etcd'
VERSION='3.5.21'
URL='https://github.com/etcd-io/etcd/releases/download/v3.5.21/etcd-v3.5.21-linux-amd64.tar.gz'
SHA256='0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
STAGE='/var/lib/hakube/etcd-upgrade/v3.5.21'
MEMBER='m1'
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
    for b in $bins; do
      install -m 0755 "$dir/$b" "$BIN_DIR/$b.hakube-new"
    done
    for b in $bins; do
      mv -f "$BIN_DIR/$b.hakube-new" "$BIN_DIR/$b"
    done
    say "installed etcd $VERSION from $URL (sha256 verified)"
  fi
fi
[ -x "$BIN_DIR/etcd" ] && [ -x "$BIN_DIR/etcdctl" ] || fail "etcd and etcdctl are not in $BIN_DIR"
have=$("$BIN_DIR/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')
case "$have" in
  3.[4-9].*|3.[1-9][0-9].*|[4-9].*) say "etcd $have in $BIN_DIR" ;;
  *) fail "etcd in $BIN_DIR is version '$have'; hakube needs 3.4 or later (learners)" ;;
esac
if ! getent passwd etcd >/dev/null; then
  useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin etcd
  say "created user etcd"
fi
install -d -m 0755 -o root -g root /etc/etcd
install -d -m 0700 -o etcd -g etcd /etc/etcd/pki
install -d -m 0700 -o etcd -g etcd "$DATA_DIR"
