# hakube HaControlPlane cp: prepare for Kubernetes 1.31.4 (preinstalled) on m1
set -eu
NAME='m1'
VERSION='1.31.4'
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
command -v containerd >/dev/null 2>&1 || fail "containerd is not installed (install.method preinstalled expects it on the image)"
grep -qs 'SystemdCgroup = true' /etc/containerd/config.toml || fail "containerd's runc must use the systemd cgroup driver (SystemdCgroup = true in /etc/containerd/config.toml), as the kubelet of Kubernetes 1.31 is set up for"
for b in kubeadm kubelet kubectl; do
  command -v "$b" >/dev/null 2>&1 || fail "$b is not installed (install.method preinstalled expects it on the image)"
done
[ "$(kubeadm version -o short 2>/dev/null)" = "v$VERSION" ] || fail "kubeadm is $(kubeadm version -o short 2>/dev/null || echo unknown), not v$VERSION"
[ "$(kubelet --version 2>/dev/null)" = "Kubernetes v$VERSION" ] || fail "the kubelet is $(kubelet --version 2>/dev/null || echo unknown), not v$VERSION"
say "containerd, kubelet, kubeadm and kubectl $VERSION are on the image"
put /etc/crictl.yaml 0644 root:root <<'HAKUBE_EOF'
# Managed by hakube (HaControlPlane).
runtime-endpoint: unix:///var/run/containerd/containerd.sock
image-endpoint: unix:///var/run/containerd/containerd.sock
HAKUBE_EOF
systemctl enable --now --quiet containerd
systemctl is-active --quiet containerd || fail "containerd is not running; see journalctl -u containerd"
systemctl enable --quiet kubelet
say "ready for kubeadm"
