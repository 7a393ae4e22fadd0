# hakube HaControlPlane cp: prepare for Kubernetes 1.31.4 (package) on m1
set -eu
NAME='m1'
VERSION='1.31.4'
REPO='https://pkgs.k8s.io/core:/stable:/v1.31'
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
[ "$(id -u)" -eq 0 ] || fail "must run as root"
command -v systemctl >/dev/null 2>&1 || fail "systemd is required"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
wait_for_cloud_init() {
  if command -v cloud-init >/dev/null 2>&1; then
    timeout 900 cloud-init status --wait >/dev/null 2>&1 || true
  fi
}
apt_retry() {
  _waited=0
  while :; do
    _rc=0
    { _err=$(DEBIAN_FRONTEND=noninteractive "$@" 2>&1 >&3 3>&-); } 3>&1 || _rc=$?
    if [ "$_rc" -eq 0 ]; then
      [ -z "$_err" ] || printf '%s\n' "$_err" >&2
      return 0
    fi
    case "$_err" in
      *"Could not get lock"*|*"Unable to lock"*|*"Unable to acquire"*)
        if [ "$_waited" -lt 600 ]; then
          [ "$_waited" -gt 0 ] || say "another package manager holds apt's lock; waiting for it (at most 600 s)" >&2
          sleep 5
          _waited=$((_waited + 5))
          continue
        fi ;;
    esac
    printf '%s\n' "$_err" >&2
    return "$_rc"
  done
}
apt_get() { apt_retry apt-get -o DPkg::Lock::Timeout=600 "$@"; }
apt_install() {
  apt_get install -y -q "$@" >/dev/null 2>&1 || { apt_get update -q >/dev/null && apt_get install -y -q "$@" >/dev/null; }
}
no_service_start() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
}
wait_for_cloud_init
# The kubelet does not start with swap on (unless configured for it).
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
put /etc/modules-load.d/hakube-kubernetes.conf 0644 root:root <<'HAKUBE_EOF'
overlay
br_netfilter
HAKUBE_EOF
grep -qw overlay /proc/filesystems || modprobe overlay || fail "the kernel has no overlay file system and cannot load the module overlay"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter || fail "the kernel has no bridge netfilter and cannot load the module br_netfilter"
put /etc/sysctl.d/90-hakube-kubernetes.conf 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane): bridged pod traffic passes iptables, and nodes forward packets.
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
HAKUBE_EOF
# Only hakube's keys (sysctl --system would also apply other files, some of whose keys may be read-only).
sysctl -q -p /etc/sysctl.d/90-hakube-kubernetes.conf >/dev/null || fail "sysctl -p /etc/sysctl.d/90-hakube-kubernetes.conf failed"
for k in net.bridge.bridge-nf-call-iptables net.ipv4.ip_forward; do
  [ "$(sysctl -n "$k")" = 1 ] || fail "sysctl $k is not 1 after sysctl -p /etc/sysctl.d/90-hakube-kubernetes.conf"
done
if ! command -v containerd >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    (no_service_start && apt_install containerd) || fail "apt-get install containerd failed"
    say "installed containerd from the OS packages"
  else
    fail "containerd is not installed: on RHEL-family hosts install containerd.io from Docker's repository first, or use install.method preinstalled"
  fi
fi
have=$(kubeadm version -o short 2>/dev/null || true)
if [ -n "$have" ] && [ "$have" != "v$VERSION" ] && [ -f /etc/kubernetes/kubelet.conf ]; then
  fail "kubeadm $have is installed and $NAME is already part of a cluster: going to v$VERSION is an upgrade (kubeadm upgrade), which hakube does not automate yet"
fi
if [ "$have" = "v$VERSION" ] && [ "$(kubelet --version 2>/dev/null || true)" = "Kubernetes v$VERSION" ] && command -v kubectl >/dev/null 2>&1; then
  say "kubelet, kubeadm and kubectl $VERSION are installed"
elif command -v apt-get >/dev/null 2>&1; then
  apt_install ca-certificates curl gpg || fail "apt-get install ca-certificates curl gpg failed"
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL --retry 3 -o "$TMP/Release.key" "$REPO/deb/Release.key" || fail "download of $REPO/deb/Release.key failed; is the repository reachable?"
  gpg --dearmor < "$TMP/Release.key" > "$TMP/keyring.gpg" || fail "$REPO/deb/Release.key is not a PGP key"
  put /etc/apt/keyrings/hakube-kubernetes.gpg 0644 root:root < "$TMP/keyring.gpg"
  printf '%s\n' 'deb [signed-by=/etc/apt/keyrings/hakube-kubernetes.gpg] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /' | put /etc/apt/sources.list.d/hakube-kubernetes.list 0644 root:root
  apt_get update -q >/dev/null || fail "apt-get update failed; is $REPO/deb/ reachable?"
  apt_get install -y -q --allow-change-held-packages --allow-downgrades "kubelet=$VERSION-*" "kubeadm=$VERSION-*" "kubectl=$VERSION-*" >/dev/null || fail "apt-get install of kubelet, kubeadm and kubectl $VERSION failed; apt-cache madison kubeadm lists the versions $REPO has"
  apt_retry apt-mark hold kubelet kubeadm kubectl >/dev/null
  say "installed kubelet, kubeadm and kubectl $VERSION from $REPO (held at that version)"
elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
  pm=$(command -v dnf || command -v yum)
put /etc/yum.repos.d/hakube-kubernetes.repo 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane).
[hakube-kubernetes]
name=Kubernetes v1.31 (pkgs.k8s.io)
baseurl=https://pkgs.k8s.io/core:/stable:/v1.31/rpm/
enabled=1
gpgcheck=1
gpgkey=https://pkgs.k8s.io/core:/stable:/v1.31/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
HAKUBE_EOF
  "$pm" install -y -q "kubelet-$VERSION" "kubeadm-$VERSION" "kubectl-$VERSION" --disableexcludes=hakube-kubernetes >/dev/null || fail "$pm install of kubelet, kubeadm and kubectl $VERSION failed"
  say "installed kubelet, kubeadm and kubectl $VERSION from $REPO"
else
  fail "no supported package manager (apt-get, dnf, yum); use install.method preinstalled"
fi
install -d -m 0755 /etc/containerd
_before=$CHANGED
CHANGED=0
[ ! -f /etc/containerd/config.toml ] || grep -q '^# Managed by hakube' /etc/containerd/config.toml || [ -f /etc/containerd/config.toml.hakube-bak ] || cp -p /etc/containerd/config.toml /etc/containerd/config.toml.hakube-bak
put /etc/containerd/config.toml 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane): containerd for the kubelet. containerd's defaults hold for the rest.
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/opt/cni/bin"
  conf_dir = "/etc/cni/net.d"
HAKUBE_EOF
if [ "$CHANGED" = 1 ]; then
  containerd --config /etc/containerd/config.toml config dump >/dev/null 2>&1 || fail "containerd refuses /etc/containerd/config.toml; see containerd --config /etc/containerd/config.toml config dump"
  systemctl restart containerd
  say "containerd restarted for its configuration (sandbox image registry.k8s.io/pause:3.10, systemd cgroups)"
fi
CHANGED=$((_before | CHANGED))
put /etc/crictl.yaml 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane).
runtime-endpoint: unix:///var/run/containerd/containerd.sock
image-endpoint: unix:///var/run/containerd/containerd.sock
HAKUBE_EOF
systemctl enable --now --quiet containerd
systemctl is-active --quiet containerd || fail "containerd is not running; see journalctl -u containerd"
systemctl enable --quiet kubelet
say "ready for kubeadm"
