# hakube HaControlPlane cp: prepare for Kubernetes 1.20.2 (release) on m1
set -eu
NAME='m1'
VERSION='1.20.2'
BASE='https://mirror.example/release'
SHA_kubeadm='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
SHA_kubelet='bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
SHA_kubectl='cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'
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
command -v apt-get >/dev/null 2>&1 || fail "install.method release installs containerd and kubeadm's helpers with apt-get, which $NAME lacks; use install.method preinstalled"
missing=""
for p in containerd runc containernetworking-plugins conntrack iptables ebtables ethtool socat curl ca-certificates; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  (no_service_start && apt_install --no-install-recommends $missing) || fail "apt-get install$missing failed"
  say "installed$missing from the OS packages"
fi
if ! command -v crictl >/dev/null 2>&1; then
  (no_service_start && apt_install cri-tools) || fail "kubeadm $VERSION runs crictl, which is not installed and not in $NAME's package sources (cri-tools): install crictl from https://github.com/kubernetes-sigs/cri-tools/releases first"
  say "installed cri-tools (crictl) for kubeadm"
fi
# The CNI plugins of the OS package, where containerd and the pod networks look for them.
install -d -m 0755 /opt/cni/bin
for f in /usr/lib/cni/*; do
  [ -e "$f" ] || fail "the containernetworking-plugins package left no plugins in /usr/lib/cni"
  [ -e "/opt/cni/bin/$(basename "$f")" ] || ln -s "$f" "/opt/cni/bin/$(basename "$f")"
done
have=$(kubeadm version -o short 2>/dev/null || true)
if [ -n "$have" ] && [ "$have" != "v$VERSION" ] && [ -f /etc/kubernetes/kubelet.conf ]; then
  fail "kubeadm $have is installed and $NAME is already part of a cluster: going to v$VERSION is an upgrade (kubeadm upgrade), which hakube does not automate yet"
fi
todo=""
for b in kubeadm kubelet kubectl; do
  eval "want=\$SHA_$b"
  [ "$(sha256sum /usr/local/bin/$b 2>/dev/null | cut -d' ' -f1)" = "$want" ] || todo="$todo $b"
done
for b in $todo; do
  eval "want=\$SHA_$b"
  url="$BASE/v$VERSION/bin/linux/amd64/$b"
  curl -fsSL --retry 3 -o "$TMP/$b" "$url" || fail "download of $url failed; is the release server reachable from $NAME?"
  got=$(sha256sum "$TMP/$b" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$url has sha256 $got, not $want (install.sha256.$b); nothing was installed"
done
for b in $todo; do
  install -m 0755 "$TMP/$b" "/usr/local/bin/$b.hakube-new"
  mv -f "/usr/local/bin/$b.hakube-new" "/usr/local/bin/$b"
  CHANGED=1
done
[ -z "$todo" ] && say "kubelet, kubeadm and kubectl $VERSION are installed" || say "installed$todo $VERSION from $BASE (sha256 checked)"
install -d -m 0755 $(dirname /etc/systemd/system/kubelet.service.d/10-kubeadm.conf)
_before=$CHANGED
CHANGED=0
put /etc/systemd/system/kubelet.service 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane): the kubelet, started by kubeadm's drop-in (kubelet.service.d/).
[Unit]
Description=kubelet: the Kubernetes node agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target containerd.service

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
HAKUBE_EOF
put /etc/systemd/system/kubelet.service.d/10-kubeadm.conf 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane): what kubeadm expects of the kubelet's unit.
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# Written by kubeadm init and join: KUBELET_KUBEADM_ARGS.
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# For the site's own flags: KUBELET_EXTRA_ARGS.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
HAKUBE_EOF
[ "$CHANGED" = 0 ] || systemctl daemon-reload
CHANGED=$((_before | CHANGED))
install -d -m 0755 /etc/containerd
_before=$CHANGED
CHANGED=0
[ ! -f /etc/containerd/config.toml ] || grep -q '^# Managed by hakube' /etc/containerd/config.toml || [ -f /etc/containerd/config.toml.hakube-bak ] || cp -p /etc/containerd/config.toml /etc/containerd/config.toml.hakube-bak
put /etc/containerd/config.toml 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane): containerd for the kubelet. containerd's defaults hold for the rest.
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.example:5000/k8s/pause:3.2"
  # The node is a container without CAP_SYS_RESOURCE (HaControlPlane nodesInContainers).
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/opt/cni/bin"
  conf_dir = "/etc/cni/net.d"
HAKUBE_EOF
if [ "$CHANGED" = 1 ]; then
  containerd --config /etc/containerd/config.toml config dump >/dev/null 2>&1 || fail "containerd refuses /etc/containerd/config.toml; see containerd --config /etc/containerd/config.toml config dump"
  systemctl restart containerd
  say "containerd restarted for its configuration (sandbox image registry.example:5000/k8s/pause:3.2, cgroupfs cgroups)"
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
