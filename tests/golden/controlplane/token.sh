# hakube HaControlPlane cp: renew the bootstrap token on m1
set -eu
NAME='m1'
TTL='86400'
TIMEOUT='600'
say() { printf '%s: %s\n' 'hakube controlplane cp/m1' "$*"; }
fail() { printf '%s: %s\n' 'hakube controlplane cp/m1' "$*" >&2; exit 1; }
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
deadline=$(( $(date +%s) + TIMEOUT ))
in_time() { [ "$(date +%s)" -lt "$deadline" ]; }
[ -f /etc/kubernetes/admin.conf ] || fail "$NAME is not initialized (no /etc/kubernetes/admin.conf): the init step must run first"
secret=$(cat)
exp=$(date -u -d "@$(( $(date +%s) + TTL ))" +%Y-%m-%dT%H:%M:%SZ)
exp64=$(printf '%s' "$exp" | base64 | tr -d '\n')
until printf '%s\n' "$secret" | sed "s|HAKUBE_TOKEN_EXPIRATION|$exp64|" | kubectl --kubeconfig=/etc/kubernetes/admin.conf apply --server-side --force-conflicts --field-manager=hakube -f - >/dev/null 2>&1; do
  in_time || fail "could not apply the bootstrap token Secret through /etc/kubernetes/admin.conf within $TIMEOUT s"
  sleep 2
done
say "the bootstrap token is valid until $exp"
