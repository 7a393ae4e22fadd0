# hakube EtcdCluster etcd: install etcd on m1 (preinstalled)
set -eu
BIN_DIR='/opt/etcd/bin'
DATA_DIR='/var/lib/etcd'
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
say "install.method is preinstalled: checking $BIN_DIR"
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
