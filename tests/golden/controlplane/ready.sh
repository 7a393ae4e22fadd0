# hakube HaControlPlane cp: readiness gate on m1
set -eu
NAME='m1'
TIMEOUT='600'
URLS='https://10.0.0.10:6443/readyz https://10.0.0.11:6443/readyz https://10.0.0.12:6443/readyz https://10.0.0.13:6443/readyz'
NODES='m1 m2 m3 w1 w2'
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
[ -f /etc/kubernetes/admin.conf ] || fail "$NAME is not initialized (no /etc/kubernetes/admin.conf)"
while :; do
  pending=""
  for u in $URLS; do
    curl -fsSg --cacert /etc/kubernetes/pki/ca.crt --max-time 5 "$u" >/dev/null 2>&1 || pending="$pending $u"
  done
  have=" $(kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes -o 'jsonpath={.items[*].metadata.name}' 2>/dev/null || true) "
  for n in $NODES; do
    case "$have" in *" $n "*) ;; *) pending="$pending node/$n" ;; esac
  done
  [ -n "$pending" ] || break
  in_time || fail "not ready after $TIMEOUT s, still waiting for:$pending"
  sleep 2
done
say "ready: $(echo "$URLS" | wc -w | tr -d ' ') URLs answer /readyz (the endpoint and every API server), $(echo "$NODES" | wc -w | tr -d ' ') nodes are registered"
