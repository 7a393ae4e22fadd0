/**
 * Pure renderers for the scripts HaControlPlane runs on hosts over SSH. Every script is POSIX sh, starts
 * with `set -eu`, is idempotent, prints what it changed and fails with a message that says what to do.
 * Secrets (keys, the bootstrap token, the encryption key, kubeadm's configuration) never appear here: they
 * come on stdin as a file bundle (renderFileBundle) or a manifest.
 *
 * Life of a node:
 * - prepare (every host, in parallel): swap off, kernel modules and sysctls, containerd with the systemd
 *   cgroup driver, kubelet/kubeadm/kubectl of the pinned version (or checks them on a golden image).
 * - init (first master) / join (the others, one at a time; workers in parallel): put the files from stdin,
 *   then `kubeadm init` or `kubeadm join`, unless the node already is initialized or joined (admin.conf or
 *   kubelet.conf present): such a node is left alone, except that a CA, service-account or encryption key
 *   change is refused and a changed audit policy or etcd client certificate restarts its API server.
 *   kubeadm's preflight runs first; if kubeadm fails after it, `kubeadm reset` undoes the half-done node.
 * - token (first master): renews the bootstrap token before nodes join, so later joins find it valid.
 * - ready (first master): the endpoint and every API server answer /readyz, every node is registered.
 *
 * Not proven here: no Kubernetes binaries can run in this workplace, so these scripts are checked with
 * `sh -n`, golden files and shell tests of their file handling; kubeadm itself runs in the lab phase.
 */
import { SH_APT } from "../../packages";
import { heredoc, shAssignments, shFunctions, shQuote } from "../../shell";
import {
  ADMIN_CONF,
  APT_KEYRING,
  APT_SOURCE,
  BOOTSTRAP_TOKEN_TTL_SECONDS,
  CONTAINERD_CONFIG,
  CRI_SOCKET,
  KUBEADM_CONFIG_FILE,
  KUBEADM_LOG_DIR,
  KUBELET_CONF,
  MODULES_FILE,
  SYSCTL_FILE,
  YUM_REPO,
} from "../defaults";
import { joinHostPort, parseCidr } from "../../net";
import { ControlPlaneSettings, KubernetesInstallMethod, NodeSettings } from "../types";
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

/** The sysctls Kubernetes networking needs; IPv6 forwarding only for IPv6 clusters (it stops router advertisements being accepted). */
export function renderSysctlFile(ipv6: boolean): string {
  return [
    "# Managed by hakube (HaControlPlane): bridged pod traffic passes iptables, and nodes forward packets.",
    "net.bridge.bridge-nf-call-iptables = 1",
    "net.bridge.bridge-nf-call-ip6tables = 1",
    "net.ipv4.ip_forward = 1",
    ...(ipv6 ? ["net.ipv6.conf.all.forwarding = 1"] : []),
    "",
  ].join("\n");
}

/** The apt source of the Kubernetes package repository for one minor release. */
export function renderAptSource(repositoryUrl: string, minor: string): string {
  return `deb [signed-by=${APT_KEYRING}] ${repositoryUrl}/v${minor}/deb/ /\n`;
}

/** The dnf/yum repository; its packages are excluded from ordinary updates, as the Kubernetes docs advise. */
export function renderYumRepo(repositoryUrl: string, minor: string): string {
  return `# Managed by hakube (HaControlPlane).
[hakube-kubernetes]
name=Kubernetes v${minor} (pkgs.k8s.io)
baseurl=${repositoryUrl}/v${minor}/rpm/
enabled=1
gpgcheck=1
gpgkey=${repositoryUrl}/v${minor}/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
`;
}

const SH_SWAP_MODULES_SYSCTL = (
  ipv6: boolean,
) => `# The kubelet does not start with swap on (unless configured for it).
if [ "$(awk 'NR > 1' /proc/swaps | wc -l)" -gt 0 ]; then
  swapoff -a
  say "turned swap off"
fi
if [ -f /etc/fstab ] && awk '$1 !~ /^#/ && $3 == "swap" { found = 1 } END { exit !found }' /etc/fstab; then
  cp -p /etc/fstab /etc/fstab.hakube-bak
  awk '$1 !~ /^#/ && $3 == "swap" { print "# " $0 " # swap disabled by hakube"; next } { print }' /etc/fstab.hakube-bak > /etc/fstab.hakube-new
  mv -f /etc/fstab.hakube-new /etc/fstab
  say "commented out the swap entries of /etc/fstab (the old one is /etc/fstab.hakube-bak)"
fi
# overlay for containerd's snapshots, br_netfilter so that bridged pod traffic passes iptables.
${heredoc(`put ${MODULES_FILE} 0644 root:root`, "overlay\nbr_netfilter\n")}
for m in overlay br_netfilter; do
  [ -d "/sys/module/$m" ] || modprobe "$m" || fail "cannot load the kernel module $m"
done
_before=$CHANGED
CHANGED=0
${heredoc(`put ${SYSCTL_FILE} 0644 root:root`, renderSysctlFile(ipv6))}
[ "$CHANGED" = 0 ] || sysctl --system >/dev/null
CHANGED=$((_before | CHANGED))
for k in net.bridge.bridge-nf-call-iptables net.ipv4.ip_forward${ipv6 ? " net.ipv6.conf.all.forwarding" : ""}; do
  [ "$(sysctl -n "$k")" = 1 ] || fail "sysctl $k is not 1 after sysctl --system: another file overrides ${SYSCTL_FILE}"
done`;

/** containerd from the OS packages, switched to the systemd cgroup driver (kubeadm's kubelet default). */
const SH_CONTAINERD_PACKAGE = `if ! command -v containerd >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt_install containerd || fail "apt-get install containerd failed"
    say "installed containerd from the OS packages"
  else
    fail "containerd is not installed: on RHEL-family hosts install containerd.io from Docker's repository first, or use install.method preinstalled"
  fi
fi
install -d -m 0755 /etc/containerd
if ! grep -qs 'SystemdCgroup = true' ${CONTAINERD_CONFIG}; then
  [ ! -f ${CONTAINERD_CONFIG} ] || [ -f ${CONTAINERD_CONFIG}.hakube-bak ] || cp -p ${CONTAINERD_CONFIG} ${CONTAINERD_CONFIG}.hakube-bak
  containerd config default > "$TMP/config.toml" || fail "containerd config default failed"
  sed 's/SystemdCgroup = false/SystemdCgroup = true/' "$TMP/config.toml" | put ${CONTAINERD_CONFIG} 0644 root:root
  grep -q 'SystemdCgroup = true' ${CONTAINERD_CONFIG} || fail "containerd's default configuration has no 'SystemdCgroup = false' line to switch; set the systemd cgroup driver in ${CONTAINERD_CONFIG} by hand"
  systemctl restart containerd
  say "containerd now uses the systemd cgroup driver (its default configuration otherwise)"
fi`;

/** Check a golden image instead of installing. */
const SH_CHECK_PREINSTALLED = `command -v containerd >/dev/null 2>&1 || fail "containerd is not installed (install.method preinstalled expects it on the image)"
grep -qs 'SystemdCgroup = true' ${CONTAINERD_CONFIG} || fail "containerd does not use the systemd cgroup driver (SystemdCgroup = true in ${CONTAINERD_CONFIG}), which the kubelet is set up for"
for b in kubeadm kubelet kubectl; do
  command -v "$b" >/dev/null 2>&1 || fail "$b is not installed (install.method preinstalled expects it on the image)"
done
[ "$(kubeadm version -o short 2>/dev/null)" = "v$VERSION" ] || fail "kubeadm is $(kubeadm version -o short 2>/dev/null || echo unknown), not v$VERSION"
[ "$(kubelet --version 2>/dev/null)" = "Kubernetes v$VERSION" ] || fail "the kubelet is $(kubelet --version 2>/dev/null || echo unknown), not v$VERSION"
say "containerd, kubelet, kubeadm and kubectl $VERSION are on the image"`;

/** kubelet, kubeadm, kubectl of exactly $VERSION from the repository of its minor, held there. */
function shInstallKubernetesPackages(repositoryUrl: string, minor: string): string {
  return `have=$(kubeadm version -o short 2>/dev/null || true)
if [ "$have" = "v$VERSION" ] && [ "$(kubelet --version 2>/dev/null || true)" = "Kubernetes v$VERSION" ] && command -v kubectl >/dev/null 2>&1; then
  say "kubelet, kubeadm and kubectl $VERSION are installed"
elif [ -n "$have" ] && [ -f ${KUBELET_CONF} ]; then
  fail "kubeadm $have is installed and $NAME is already part of a cluster: going to v$VERSION is an upgrade (kubeadm upgrade), which hakube does not automate yet"
elif command -v apt-get >/dev/null 2>&1; then
  apt_install ca-certificates curl gpg || fail "apt-get install ca-certificates curl gpg failed"
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL --retry 3 -o "$TMP/Release.key" "$REPO/deb/Release.key" || fail "download of $REPO/deb/Release.key failed; is the repository reachable?"
  gpg --dearmor < "$TMP/Release.key" > "$TMP/keyring.gpg" || fail "$REPO/deb/Release.key is not a PGP key"
  put ${APT_KEYRING} 0644 root:root < "$TMP/keyring.gpg"
  printf '%s\\n' ${shQuote(renderAptSource(repositoryUrl, minor).trimEnd())} | put ${APT_SOURCE} 0644 root:root
  apt_get update -q >/dev/null || fail "apt-get update failed; is $REPO/deb/ reachable?"
  apt_get install -y -q --allow-change-held-packages --allow-downgrades "kubelet=$VERSION-*" "kubeadm=$VERSION-*" "kubectl=$VERSION-*" >/dev/null || fail "apt-get install of kubelet, kubeadm and kubectl $VERSION failed; apt-cache madison kubeadm lists the versions $REPO has"
  apt_retry apt-mark hold kubelet kubeadm kubectl >/dev/null
  say "installed kubelet, kubeadm and kubectl $VERSION from $REPO (held at that version)"
elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
  pm=$(command -v dnf || command -v yum)
${heredoc(`put ${YUM_REPO} 0644 root:root`, renderYumRepo(repositoryUrl, minor))}
  "$pm" install -y -q "kubelet-$VERSION" "kubeadm-$VERSION" "kubectl-$VERSION" --disableexcludes=hakube-kubernetes >/dev/null || fail "$pm install of kubelet, kubeadm and kubectl $VERSION failed"
  say "installed kubelet, kubeadm and kubectl $VERSION from $REPO"
else
  fail "no supported package manager (apt-get, dnf, yum); use install.method preinstalled"
fi`;
}

/**
 * Prepare a host (master or worker) for kubeadm. Idempotent: a prepared host is checked and left alone;
 * a host already in a cluster with another kubeadm version is refused (an upgrade is not automated).
 */
export function renderPrepareScript(s: ControlPlaneSettings, node: NodeSettings): string {
  const ipv6 = parseCidr(s.podSubnet)?.family === 6;
  const packaged = s.install.method === KubernetesInstallMethod.Package;
  const vars: Array<[string, string]> = [
    ["NAME", node.name],
    ["VERSION", s.kubernetesVersion],
  ];
  if (packaged) vars.push(["REPO", `${s.install.repositoryUrl}/v${s.kubernetesMinor}`]);
  return [
    header(s, `prepare for Kubernetes ${s.kubernetesVersion} (${s.install.method})`, node.name),
    "set -eu",
    shAssignments(vars),
    shFunctions(prefix(s.cluster, node.name)),
    `[ "$(id -u)" -eq 0 ] || fail "must run as root"
command -v systemctl >/dev/null 2>&1 || fail "systemd is required"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT`,
    ...(packaged
      ? [
          `${SH_APT}
wait_for_cloud_init`,
        ]
      : []),
    SH_SWAP_MODULES_SYSCTL(ipv6),
    ...(packaged
      ? [SH_CONTAINERD_PACKAGE, shInstallKubernetesPackages(s.install.repositoryUrl, s.kubernetesMinor)]
      : [SH_CHECK_PREINSTALLED]),
    heredoc(
      "put /etc/crictl.yaml 0644 root:root",
      `# Managed by hakube (HaControlPlane).\nruntime-endpoint: ${CRI_SOCKET}\nimage-endpoint: ${CRI_SOCKET}\n`,
    ),
    `systemctl enable --now --quiet containerd
systemctl is-active --quiet containerd || fail "containerd is not running; see journalctl -u containerd"
systemctl enable --quiet kubelet
say "ready for kubeadm"`,
    "",
  ].join("\n");
}

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

/** Restart kube-apiserver (the kubelet starts the static pod's container again) and wait until it is ready. */
const SH_RESTART_API_SERVER = `restart_api_server() {
  _id=$(crictl --runtime-endpoint ${CRI_SOCKET} ps --quiet --name '^kube-apiserver$' 2>/dev/null | head -n 1)
  [ -n "$_id" ] || fail "files kube-apiserver reads at start changed, but no kube-apiserver container runs on $NAME"
  crictl --runtime-endpoint ${CRI_SOCKET} stop "$_id" >/dev/null
  sleep 2
  until curl -fsSg --cacert ${PKI_FILES.caCert} --max-time 5 "$LOCAL_READYZ" >/dev/null 2>&1; do
    in_time || fail "kube-apiserver on $NAME is not ready $TIMEOUT s after a restart for its changed files; see crictl logs"
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
