/**
 * Pure renderers for the scripts HaControlPlane runs on hosts over SSH. Every script is POSIX sh, starts
 * with `set -eu`, is idempotent, prints what it changed and fails with a message that says what to do.
 * Secrets (keys, the bootstrap token, the encryption key, kubeadm's configuration) never appear here: they
 * come on stdin as a file bundle (renderFileBundle) or a manifest.
 *
 * Life of a node:
 * - prepare (every host, in parallel; render/prepare.ts): swap off, kernel modules and sysctls, containerd
 *   with hakube's configuration, kubelet/kubeadm/kubectl of the pinned version (or checks a golden image).
 * - init (first master) / join (the others, one at a time; workers in parallel): put the files from stdin,
 *   then `kubeadm init` or `kubeadm join`, unless the node already is initialized or joined (admin.conf or
 *   kubelet.conf present): such a node is left alone, except that a CA, service-account or encryption key
 *   change is refused and a changed audit policy or etcd client certificate restarts its API server.
 *   kubeadm's preflight runs first; if kubeadm fails after it, `kubeadm reset` undoes the half-done node.
 * - token (first master): renews the bootstrap token before nodes join, so later joins find it valid.
 * - ready (first master): the endpoint and every API server answer /readyz, every node is registered.
 *
 * Checked with `sh -n`, golden files and shell tests of their file handling, and run for real by the lab
 * (tests/lab/kubernetes.test.ts) with kubeadm 1.20, the one Kubernetes release that can be built here.
 */
import { shAssignments, shFunctions, shQuote } from "../../shell";
import {
  ADMIN_CONF,
  BOOTSTRAP_TOKEN_TTL_SECONDS,
  KUBEADM_CONFIG_FILE,
  KUBEADM_LOG_DIR,
  KUBELET_CONF,
} from "../defaults";
import { joinHostPort } from "../../net";
import { ControlPlaneSettings, NodeSettings } from "../types";
import { apiServerRestartFiles, PKI_FILES, protectedFiles, TOKEN_EXPIRATION_PLACEHOLDER } from "./files";

function prefix(cluster: string, node: string): string {
  return `hakube controlplane ${cluster}/${node}`;
}

function header(s: ControlPlaneSettings, what: string, node: string): string {
  return `# hakube HaControlPlane ${s.cluster}: ${what} on ${node}`;
}

/** A deadline `TIMEOUT` seconds from now and `in_time` to test it. */
const SH_DEADLINE = `deadline=$(( $(date +%s) + TIMEOUT ))
in_time() { [ "$(date +%s)" -lt "$deadline" ]; }`;

/** `case` patterns matching any of the paths. */
function casePatterns(paths: readonly string[]): string {
  return paths.length > 0 ? paths.map(shQuote).join("|") : "''";
}

/**
 * Read the file bundle from stdin into a private staging directory (nothing is written yet), refuse
 * changes to protected files on an initialized node, then `put` every file. Sets API_SERVER_RESTART=1 if a
 * file that kube-apiserver reads at start changed, KUBEADM_CONFIG_CHANGED=1 if kubeadm's configuration did.
 */
export function shStageAndPutBundle(
  protectedPaths: readonly string[],
  restartPaths: readonly string[],
  kubeadmConfigPath = KUBEADM_CONFIG_FILE,
): string {
  return `STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
_n=0
while read -r _path _mode _owner _data; do
  [ -n "$_path" ] || continue
  _n=$((_n + 1))
  (umask 077 && printf '%s' "$_data" | base64 -d > "$STAGE/$_n")
  printf '%s %s %s %s\\n' "$_n" "$_path" "$_mode" "$_owner" >> "$STAGE/index"
done
[ -s "$STAGE/index" ] || fail "no files on stdin"
is_protected() { case "$1" in ${casePatterns(protectedPaths)}) return 0 ;; esac; return 1; }
needs_restart() { case "$1" in ${casePatterns(restartPaths)}) return 0 ;; esac; return 1; }
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
    if [ "$_path" = ${shQuote(kubeadmConfigPath)} ]; then KUBEADM_CONFIG_CHANGED=1; fi
  fi
  CHANGED=$((_before | CHANGED))
done < "$STAGE/index"`;
}

/**
 * Run kubeadm: preflight first (it pulls the images too) and stop there if it fails, nothing changed;
 * then the rest, and on failure `kubeadm reset` so that the next run starts from a clean node.
 * kubeadm's output goes to a root-only log on the host; on failure its last lines go to stderr.
 */
const SH_RUN_KUBEADM = `run_kubeadm() {
  _cmd=$1
  shift
  install -d -m 0700 ${KUBEADM_LOG_DIR}
  _log="${KUBEADM_LOG_DIR}/kubeadm-$_cmd.log"
  (umask 077 && : > "$_log")
  say "kubeadm $_cmd: preflight checks and image pulls"
  if ! kubeadm "$_cmd" phase preflight --config ${KUBEADM_CONFIG_FILE} >> "$_log" 2>&1; then
    tail -n 20 "$_log" >&2
    fail "kubeadm $_cmd preflight failed on $NAME; nothing was changed. Full output: $_log"
  fi
  say "kubeadm $_cmd"
  if ! kubeadm "$_cmd" --config ${KUBEADM_CONFIG_FILE} --skip-phases=preflight "$@" >> "$_log" 2>&1; then
    tail -n 20 "$_log" >&2
    kubeadm reset --force >> "$_log" 2>&1 || true
    fail "kubeadm $_cmd failed on $NAME; the node was reset (kubeadm reset) so that the next run starts clean. Full output: $_log"
  fi
}`;

/**
 * Restart kube-apiserver: stop its running container with containerd's own ctr (crictl may not be
 * installed), the kubelet starts the static pod's container again; then wait until it is ready.
 */
const SH_RESTART_API_SERVER = `restart_api_server() {
  _running=""
  for _id in $(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==kube-apiserver' 2>/dev/null); do
    if ctr -n k8s.io tasks ls 2>/dev/null | awk -v id="$_id" '$1 == id && $3 == "RUNNING" { found = 1 } END { exit !found }'; then
      _running="$_running $_id"
    fi
  done
  [ -n "$_running" ] || fail "files kube-apiserver reads at start changed, but no kube-apiserver container runs on $NAME"
  for _id in $_running; do ctr -n k8s.io tasks kill -s SIGTERM "$_id" >/dev/null; done
  sleep 2
  until curl -fsSg --cacert ${PKI_FILES.caCert} --max-time 5 "$LOCAL_READYZ" >/dev/null 2>&1; do
    in_time || fail "kube-apiserver on $NAME is not ready $TIMEOUT s after a restart for its changed files; see its log in /var/log/pods"
    sleep 2
  done
  say "restarted kube-apiserver for its changed files; it is ready"
}`;

/** The part of the init and join scripts that comes before and after kubeadm. */
function nodeStepScript(
  s: ControlPlaneSettings,
  node: NodeSettings,
  opts: { what: string; master: boolean; marker: string; kubeadm: string; done: string },
): string {
  const vars: Array<[string, string | number]> = [
    ["NAME", node.name],
    ["TIMEOUT", s.readyTimeoutSeconds],
  ];
  if (opts.master) vars.push(["LOCAL_READYZ", `https://${joinHostPort(node.address, s.bindPort)}/readyz`]);
  return [
    header(s, opts.what, node.name),
    "set -eu",
    shAssignments(vars),
    shFunctions(prefix(s.cluster, node.name)),
    SH_DEADLINE,
    SH_RUN_KUBEADM,
    ...(opts.master ? [SH_RESTART_API_SERVER] : []),
    `command -v kubeadm >/dev/null 2>&1 || fail "kubeadm is not installed: the prepare step must run first"
INITIALIZED=0
[ ! -f ${opts.marker} ] || INITIALIZED=1
# Certificates, keys and configuration: one line per file on stdin (path, mode, owner, base64).`,
    opts.master
      ? shStageAndPutBundle(protectedFiles(s.etcdTopology), apiServerRestartFiles(s.etcdTopology))
      : shStageAndPutBundle([], []),
    `if [ "$INITIALIZED" = 1 ]; then
  if [ "$KUBEADM_CONFIG_CHANGED" = 1 ]; then
    say "kubeadm's configuration changed; kubeadm applies it only when a node is set up, so this node keeps its current settings"
  fi${
    opts.master
      ? `
  if [ "$API_SERVER_RESTART" = 1 ]; then restart_api_server; fi`
      : ""
  }
  say "already ${opts.done} (${opts.marker} exists): left alone"
  exit 0
fi
${opts.kubeadm}
say ${shQuote(opts.done)}`,
    "",
  ].join("\n");
}

/** The first master: `kubeadm init` with the configuration on stdin (token print suppressed). */
export function renderInitScript(s: ControlPlaneSettings, node: NodeSettings): string {
  return nodeStepScript(s, node, {
    what: "kubeadm init",
    master: true,
    marker: ADMIN_CONF,
    kubeadm: "run_kubeadm init --skip-token-print",
    done: "initialized",
  });
}

/** Another master (`controlPlane`) or a worker: `kubeadm join` through the endpoint. */
export function renderJoinScript(s: ControlPlaneSettings, node: NodeSettings, controlPlane: boolean): string {
  return nodeStepScript(s, node, {
    what: controlPlane ? "kubeadm join --control-plane" : "kubeadm join (worker)",
    master: controlPlane,
    marker: KUBELET_CONF,
    kubeadm: "run_kubeadm join",
    done: controlPlane ? "joined as a control-plane node" : "joined as a worker",
  });
}

/**
 * Renew the bootstrap token (stdin: its Secret, with the expiry to fill in), so that nodes joining after
 * kubeadm's 24 hours still find it. Server-side apply with hakube as field manager (forcing conflicts), so
 * the Secret kubeadm init made is taken over.
 */
export function renderTokenScript(s: ControlPlaneSettings, node: NodeSettings): string {
  return [
    header(s, "renew the bootstrap token", node.name),
    "set -eu",
    shAssignments([
      ["NAME", node.name],
      ["TTL", BOOTSTRAP_TOKEN_TTL_SECONDS],
      ["TIMEOUT", s.readyTimeoutSeconds],
    ]),
    shFunctions(prefix(s.cluster, node.name)),
    SH_DEADLINE,
    `[ -f ${ADMIN_CONF} ] || fail "$NAME is not initialized (no ${ADMIN_CONF}): the init step must run first"
secret=$(cat)
exp=$(date -u -d "@$(( $(date +%s) + TTL ))" +%Y-%m-%dT%H:%M:%SZ)
exp64=$(printf '%s' "$exp" | base64 | tr -d '\\n')
until printf '%s\\n' "$secret" | sed "s|${TOKEN_EXPIRATION_PLACEHOLDER}|$exp64|" | kubectl --kubeconfig=${ADMIN_CONF} apply --server-side --force-conflicts --field-manager=hakube -f - >/dev/null 2>&1; do
  in_time || fail "could not apply the bootstrap token Secret through ${ADMIN_CONF} within $TIMEOUT s"
  sleep 2
done
say "the bootstrap token is valid until $exp"`,
    "",
  ].join("\n");
}

/**
 * The readiness gate, on the first master: the endpoint and every API server answer /readyz (curl with the
 * cluster CA; kube-apiserver serves /readyz to anonymous clients; -g keeps curl from reading an IPv6
 * address's brackets as a glob), and every node is registered.
 */
export function renderReadyScript(s: ControlPlaneSettings, node: NodeSettings): string {
  const urls = [
    `https://${s.endpoint.hostPort}/readyz`,
    ...s.masters.map((m) => `https://${joinHostPort(m.address, s.bindPort)}/readyz`),
  ];
  const nodes = [...s.masters, ...s.workers].map((n) => n.name);
  return [
    header(s, "readiness gate", node.name),
    "set -eu",
    shAssignments([
      ["NAME", node.name],
      ["TIMEOUT", s.readyTimeoutSeconds],
      ["URLS", urls.join(" ")],
      ["NODES", nodes.join(" ")],
    ]),
    shFunctions(prefix(s.cluster, node.name)),
    SH_DEADLINE,
    `[ -f ${ADMIN_CONF} ] || fail "$NAME is not initialized (no ${ADMIN_CONF})"
while :; do
  pending=""
  for u in $URLS; do
    curl -fsSg --cacert ${PKI_FILES.caCert} --max-time 5 "$u" >/dev/null 2>&1 || pending="$pending $u"
  done
  have=" $(kubectl --kubeconfig=${ADMIN_CONF} get nodes -o 'jsonpath={.items[*].metadata.name}' 2>/dev/null || true) "
  for n in $NODES; do
    case "$have" in *" $n "*) ;; *) pending="$pending node/$n" ;; esac
  done
  [ -n "$pending" ] || break
  in_time || fail "not ready after $TIMEOUT s, still waiting for:$pending"
  sleep 2
done
say "ready: $(echo "$URLS" | wc -w | tr -d ' ') URLs answer /readyz (the endpoint and every API server), $(echo "$NODES" | wc -w | tr -d ' ') nodes are registered"`,
    "",
  ].join("\n");
}
