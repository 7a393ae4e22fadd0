# hakube HaControlPlane cp: kubeadm init on m1
set -eu
NAME='m1'
TIMEOUT='600'
LOCAL_READYZ='https://10.0.0.11:6443/readyz'
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
run_kubeadm() {
  _cmd=$1
  shift
  install -d -m 0700 /var/log/hakube
  _log="/var/log/hakube/kubeadm-$_cmd.log"
  (umask 077 && : > "$_log")
  say "kubeadm $_cmd: preflight checks and image pulls"
  if ! kubeadm "$_cmd" phase preflight --config /etc/kubernetes/hakube/kubeadm.yaml >> "$_log" 2>&1; then
    tail -n 20 "$_log" >&2
    fail "kubeadm $_cmd preflight failed on $NAME; nothing was changed. Full output: $_log"
  fi
  say "kubeadm $_cmd"
  if ! kubeadm "$_cmd" --config /etc/kubernetes/hakube/kubeadm.yaml --skip-phases=preflight "$@" >> "$_log" 2>&1; then
    tail -n 20 "$_log" >&2
    kubeadm reset --force >> "$_log" 2>&1 || true
    fail "kubeadm $_cmd failed on $NAME; the node was reset (kubeadm reset) so that the next run starts clean. Full output: $_log"
  fi
}
restart_api_server() {
  _running=""
  for _id in $(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==kube-apiserver' 2>/dev/null); do
    if ctr -n k8s.io tasks ls 2>/dev/null | awk -v id="$_id" '$1 == id && $3 == "RUNNING" { found = 1 } END { exit !found }'; then
      _running="$_running $_id"
    fi
  done
  [ -n "$_running" ] || fail "files kube-apiserver reads at start changed, but no kube-apiserver container runs on $NAME"
  for _id in $_running; do ctr -n k8s.io tasks kill -s SIGTERM "$_id" >/dev/null; done
  sleep 2
  until curl -fsSg --cacert /etc/kubernetes/pki/ca.crt --max-time 5 "$LOCAL_READYZ" >/dev/null 2>&1; do
    in_time || fail "kube-apiserver on $NAME is not ready $TIMEOUT s after a restart for its changed files; see its log in /var/log/pods"
    sleep 2
  done
  say "restarted kube-apiserver for its changed files; it is ready"
}
command -v kubeadm >/dev/null 2>&1 || fail "kubeadm is not installed: the prepare step must run first"
INITIALIZED=0
[ ! -f /etc/kubernetes/admin.conf ] || INITIALIZED=1
# Certificates, keys and configuration: one line per file on stdin (path, mode, owner, base64).
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
_n=0
while read -r _path _mode _owner _data; do
  [ -n "$_path" ] || continue
  _n=$((_n + 1))
  (umask 077 && printf '%s' "$_data" | base64 -d > "$STAGE/$_n")
  printf '%s %s %s %s\n' "$_n" "$_path" "$_mode" "$_owner" >> "$STAGE/index"
done
[ -s "$STAGE/index" ] || fail "no files on stdin"
is_protected() { case "$1" in '/etc/kubernetes/pki/ca.crt'|'/etc/kubernetes/pki/ca.key'|'/etc/kubernetes/pki/front-proxy-ca.crt'|'/etc/kubernetes/pki/front-proxy-ca.key'|'/etc/kubernetes/pki/sa.key'|'/etc/kubernetes/pki/sa.pub'|'/etc/kubernetes/pki/etcd/ca.crt'|'/etc/kubernetes/pki/etcd/ca.key'|'/etc/kubernetes/hakube/apiserver/encryption-config.yaml') return 0 ;; esac; return 1; }
needs_restart() { case "$1" in '/etc/kubernetes/hakube/apiserver/audit-policy.yaml') return 0 ;; esac; return 1; }
if [ "$INITIALIZED" = 1 ]; then
  _refused=""
  while read -r _i _path _mode _owner; do
    if is_protected "$_path" && ! cmp -s "$STAGE/$_i" "$_path"; then _refused="$_refused $_path"; fi
  done < "$STAGE/index"
  [ -z "$_refused" ] || fail "refusing to change$_refused on $NAME, which is already part of the cluster: a new CA, service-account key or encryption key breaks every certificate, token or Secret made with the old one, and rotating them is not automated; nothing was written"
fi
API_SERVER_RESTART=0
KUBEADM_CONFIG_CHANGED=0
while read -r _i _path _mode _owner; do
  _before=$CHANGED
  CHANGED=0
  [ -d "$(dirname "$_path")" ] || install -d -m 0700 "$(dirname "$_path")"
  put "$_path" "$_mode" "$_owner" < "$STAGE/$_i"
  if [ "$CHANGED" = 1 ]; then
    if needs_restart "$_path"; then API_SERVER_RESTART=1; fi
    if [ "$_path" = '/etc/kubernetes/hakube/kubeadm.yaml' ]; then KUBEADM_CONFIG_CHANGED=1; fi
  fi
  CHANGED=$((_before | CHANGED))
done < "$STAGE/index"
if [ "$INITIALIZED" = 1 ]; then
  if [ "$KUBEADM_CONFIG_CHANGED" = 1 ]; then
    say "kubeadm's configuration changed; kubeadm applies it only when a node is set up, so this node keeps its current settings"
  fi
  if [ "$API_SERVER_RESTART" = 1 ]; then restart_api_server; fi
  say "already initialized (/etc/kubernetes/admin.conf exists): left alone"
  exit 0
fi
run_kubeadm init --skip-token-print
say 'initialized'
