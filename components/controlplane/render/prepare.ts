/**
 * The prepare step: what every host (master or worker) needs before kubeadm, for each install method.
 * Pure renderers; POSIX sh, `set -eu`, idempotent (a prepared host is checked and left alone), and a host
 * already in a cluster with another Kubernetes version is refused (an upgrade is not automated).
 *
 * - package: containerd from the OS packages, kubelet/kubeadm/kubectl of exactly the version from the
 *   Kubernetes package repository of its minor, held there.
 * - release: containerd, runc, the CNI plugins and kubeadm's helpers (conntrack, iptables, ebtables,
 *   ethtool, socat; cri-tools where kubeadm needs crictl) from the OS packages (apt); kubelet, kubeadm and
 *   kubectl downloaded from the release server and checked against their sha256 before any is installed;
 *   the kubelet's unit and kubeadm's drop-in written by hakube.
 * - preinstalled: checks the golden image (versions, containerd's cgroup driver).
 *
 * Every method but preinstalled writes hakube's containerd configuration (render/node.ts) and restarts
 * containerd when it changed.
 */
import { SH_APT } from "../../packages";
import { heredoc, shAssignments, shFunctions, shQuote } from "../../shell";
import {
  APT_KEYRING,
  APT_SOURCE,
  CNI_BIN_DIR,
  CONTAINERD_CONFIG,
  CRI_SOCKET,
  DEBIAN_CNI_PLUGINS_DIR,
  KUBELET_CONF,
  KUBELET_DROPIN,
  KUBELET_UNIT,
  MODULES_FILE,
  RELEASE_BIN_DIR,
  RELEASE_OS_PACKAGES,
  SYSCTL_FILE,
  YUM_REPO,
} from "../defaults";
import { parseCidr } from "../../net";
import { ControlPlaneSettings, NodeSettings } from "../types";
import { InstallMethod } from "../../install";
import { renderContainerdConfig, renderKubeletKubeadmDropIn, renderKubeletUnit } from "./node";

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
# overlay for containerd's snapshots, br_netfilter so that bridged pod traffic passes iptables; either
# may be built into the kernel rather than a module, so what is checked is what they provide.
${heredoc(`put ${MODULES_FILE} 0644 root:root`, "overlay\nbr_netfilter\n")}
grep -qw overlay /proc/filesystems || modprobe overlay || fail "the kernel has no overlay file system and cannot load the module overlay"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter || fail "the kernel has no bridge netfilter and cannot load the module br_netfilter"
${heredoc(`put ${SYSCTL_FILE} 0644 root:root`, renderSysctlFile(ipv6))}
# Only hakube's keys (sysctl --system would also apply other files, some of whose keys may be read-only).
sysctl -q -p ${SYSCTL_FILE} >/dev/null || fail "sysctl -p ${SYSCTL_FILE} failed"
for k in net.bridge.bridge-nf-call-iptables net.ipv4.ip_forward${ipv6 ? " net.ipv6.conf.all.forwarding" : ""}; do
  [ "$(sysctl -n "$k")" = 1 ] || fail "sysctl $k is not 1 after sysctl -p ${SYSCTL_FILE}"
done`;

/** containerd from the OS packages (apt), or already there. */
const SH_CONTAINERD_PACKAGE = `if ! command -v containerd >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    (no_service_start && apt_install containerd) || fail "apt-get install containerd failed"
    say "installed containerd from the OS packages"
  else
    fail "containerd is not installed: on RHEL-family hosts install containerd.io from Docker's repository first, or use install.method preinstalled"
  fi
fi`;

/** hakube's containerd configuration; containerd restarts when it changed. */
function shContainerdConfig(s: ControlPlaneSettings): string {
  return `install -d -m 0755 /etc/containerd
_before=$CHANGED
CHANGED=0
[ ! -f ${CONTAINERD_CONFIG} ] || grep -q '^# Managed by hakube' ${CONTAINERD_CONFIG} || [ -f ${CONTAINERD_CONFIG}.hakube-bak ] || cp -p ${CONTAINERD_CONFIG} ${CONTAINERD_CONFIG}.hakube-bak
${heredoc(`put ${CONTAINERD_CONFIG} 0644 root:root`, renderContainerdConfig(s))}
if [ "$CHANGED" = 1 ]; then
  containerd --config ${CONTAINERD_CONFIG} config dump >/dev/null 2>&1 || fail "containerd refuses ${CONTAINERD_CONFIG}; see containerd --config ${CONTAINERD_CONFIG} config dump"
  systemctl restart containerd
  say "containerd restarted for its configuration (sandbox image ${s.pauseImage}, ${s.cgroupDriver} cgroups)"
fi
CHANGED=$((_before | CHANGED))`;
}

/** Check a golden image instead of installing. */
function shCheckPreinstalled(s: ControlPlaneSettings): string {
  const systemd = s.cgroupDriver === "systemd";
  return `command -v containerd >/dev/null 2>&1 || fail "containerd is not installed (install.method preinstalled expects it on the image)"
grep -qs 'SystemdCgroup = ${systemd}' ${CONTAINERD_CONFIG} || fail "containerd's runc must use the ${s.cgroupDriver} cgroup driver (SystemdCgroup = ${systemd} in ${CONTAINERD_CONFIG}), as the kubelet of Kubernetes ${s.kubernetesMinor} is set up for"
for b in kubeadm kubelet kubectl; do
  command -v "$b" >/dev/null 2>&1 || fail "$b is not installed (install.method preinstalled expects it on the image)"
done
[ "$(kubeadm version -o short 2>/dev/null)" = "v$VERSION" ] || fail "kubeadm is $(kubeadm version -o short 2>/dev/null || echo unknown), not v$VERSION"
[ "$(kubelet --version 2>/dev/null)" = "Kubernetes v$VERSION" ] || fail "the kubelet is $(kubelet --version 2>/dev/null || echo unknown), not v$VERSION"
say "containerd, kubelet, kubeadm and kubectl $VERSION are on the image"`;
}

/** Refuse to change the Kubernetes version of a node that is already in a cluster. */
const SH_REFUSE_UPGRADE = `if [ -n "$have" ] && [ "$have" != "v$VERSION" ] && [ -f ${KUBELET_CONF} ]; then
  fail "kubeadm $have is installed and $NAME is already part of a cluster: going to v$VERSION is an upgrade (kubeadm upgrade), which hakube does not automate yet"
fi`;

/** kubelet, kubeadm, kubectl of exactly $VERSION from the repository of its minor, held there. */
function shInstallKubernetesPackages(repositoryUrl: string, minor: string): string {
  return `have=$(kubeadm version -o short 2>/dev/null || true)
${SH_REFUSE_UPGRADE}
if [ "$have" = "v$VERSION" ] && [ "$(kubelet --version 2>/dev/null || true)" = "Kubernetes v$VERSION" ] && command -v kubectl >/dev/null 2>&1; then
  say "kubelet, kubeadm and kubectl $VERSION are installed"
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
 * The release install: OS packages, then the three binaries downloaded, each checked against its sha256,
 * and installed only when all three are good (an install never mixes versions); a binary that already
 * has the expected sha256 is not downloaded again.
 */
function shInstallRelease(s: ControlPlaneSettings): string {
  return `command -v apt-get >/dev/null 2>&1 || fail "install.method release installs containerd and kubeadm's helpers with apt-get, which $NAME lacks; use install.method preinstalled"
missing=""
for p in ${RELEASE_OS_PACKAGES.join(" ")}; do
  dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  (no_service_start && apt_install --no-install-recommends $missing) || fail "apt-get install$missing failed"
  say "installed$missing from the OS packages"
fi
${
  s.kubeadmNeedsCrictl
    ? `if ! command -v crictl >/dev/null 2>&1; then
  (no_service_start && apt_install cri-tools) || fail "kubeadm $VERSION runs crictl, which is not installed and not in $NAME's package sources (cri-tools): install crictl from https://github.com/kubernetes-sigs/cri-tools/releases first"
  say "installed cri-tools (crictl) for kubeadm"
fi
`
    : ""
}# The CNI plugins of the OS package, where containerd and the pod networks look for them.
install -d -m 0755 ${CNI_BIN_DIR}
for f in ${DEBIAN_CNI_PLUGINS_DIR}/*; do
  [ -e "$f" ] || fail "the containernetworking-plugins package left no plugins in ${DEBIAN_CNI_PLUGINS_DIR}"
  [ -e "${CNI_BIN_DIR}/$(basename "$f")" ] || ln -s "$f" "${CNI_BIN_DIR}/$(basename "$f")"
done
have=$(kubeadm version -o short 2>/dev/null || true)
${SH_REFUSE_UPGRADE}
todo=""
for b in kubeadm kubelet kubectl; do
  eval "want=\\$SHA_$b"
  [ "$(sha256sum ${RELEASE_BIN_DIR}/$b 2>/dev/null | cut -d' ' -f1)" = "$want" ] || todo="$todo $b"
done
for b in $todo; do
  eval "want=\\$SHA_$b"
  url="$BASE/v$VERSION/bin/linux/amd64/$b"
  curl -fsSL --retry 3 -o "$TMP/$b" "$url" || fail "download of $url failed; is the release server reachable from $NAME?"
  got=$(sha256sum "$TMP/$b" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$url has sha256 $got, not $want (install.sha256.$b); nothing was installed"
done
for b in $todo; do
  install -m 0755 "$TMP/$b" "${RELEASE_BIN_DIR}/$b.hakube-new"
  mv -f "${RELEASE_BIN_DIR}/$b.hakube-new" "${RELEASE_BIN_DIR}/$b"
  CHANGED=1
done
[ -z "$todo" ] && say "kubelet, kubeadm and kubectl $VERSION are installed" || say "installed$todo $VERSION from $BASE (sha256 checked)"
install -d -m 0755 $(dirname ${KUBELET_DROPIN})
_before=$CHANGED
CHANGED=0
${heredoc(`put ${KUBELET_UNIT} 0644 root:root`, renderKubeletUnit())}
${heredoc(`put ${KUBELET_DROPIN} 0644 root:root`, renderKubeletKubeadmDropIn())}
[ "$CHANGED" = 0 ] || systemctl daemon-reload
CHANGED=$((_before | CHANGED))`;
}

/**
 * Prepare a host (master or worker) for kubeadm. Idempotent: a prepared host is checked and left alone;
 * a host already in a cluster with another kubeadm version is refused (an upgrade is not automated).
 */
export function renderPrepareScript(s: ControlPlaneSettings, node: NodeSettings): string {
  const ipv6 = parseCidr(s.podSubnet)?.family === 6;
  const method = s.install.method;
  const vars: Array<[string, string]> = [
    ["NAME", node.name],
    ["VERSION", s.kubernetesVersion],
  ];
  if (method === InstallMethod.Package) {
    vars.push(["REPO", `${s.install.repositoryUrl}/v${s.kubernetesMinor}`]);
  }
  if (method === InstallMethod.Release) {
    const sha = s.install.sha256;
    if (!sha) throw new Error("renderPrepareScript: the release install needs install.sha256 (validated)");
    vars.push(
      ["BASE", s.install.releaseBaseUrl],
      ["SHA_kubeadm", sha.kubeadm],
      ["SHA_kubelet", sha.kubelet],
      ["SHA_kubectl", sha.kubectl],
    );
  }
  const installs = method !== InstallMethod.Preinstalled;
  const steps: Record<InstallMethod, string[]> = {
    [InstallMethod.Package]: [
      SH_CONTAINERD_PACKAGE,
      shInstallKubernetesPackages(s.install.repositoryUrl, s.kubernetesMinor),
    ],
    [InstallMethod.Release]: [shInstallRelease(s)],
    [InstallMethod.Preinstalled]: [shCheckPreinstalled(s)],
  };
  return [
    `# hakube HaControlPlane ${s.cluster}: prepare for Kubernetes ${s.kubernetesVersion} (${method}) on ${node.name}`,
    "set -eu",
    shAssignments(vars),
    shFunctions(`hakube controlplane ${s.cluster}/${node.name}`),
    `[ "$(id -u)" -eq 0 ] || fail "must run as root"
command -v systemctl >/dev/null 2>&1 || fail "systemd is required"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT`,
    ...(installs ? [`${SH_APT}\nwait_for_cloud_init`] : []),
    SH_SWAP_MODULES_SYSCTL(ipv6),
    ...steps[method],
    ...(installs ? [shContainerdConfig(s)] : []),
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
