/**
 * What a Kubernetes node needs when it is a systemd-nspawn container on this machine, and a real machine
 * does not: the lab's host preparation, written into every host's overlay before it boots. Nothing here is
 * ever sent to a real host; the components' scripts know nothing of it. (kind's node image does the same
 * kind of things for nodes in Docker containers.)
 *
 * - nspawn mounts the cgroup v1 controllers read-only; runc and the kubelet create cgroups in them. The
 *   host's own cgroup namespace is rooted at its own subtree (lab/hosts/cgroups.ts), so remounting them
 *   read-write inside lets the host's kubelet manage its own subtree only.
 * - kubelet 1.20 refuses to start unless vm.overcommit_memory=1, kernel.panic=10 and kernel.panic_on_oops=1
 *   (it would set them itself). /proc/sys is read-only in nspawn and these are machine-wide: files bound
 *   over the three entries, in the host's mount namespace only, give the kubelet the values it checks
 *   without changing this machine's settings.
 * - crictl (cri-tools) is not packaged by Debian, and kubeadm before 1.31 runs it (info, pull, inspecti,
 *   pods, stopp, rmp). A stand-in maps those calls to containerd's own `ctr` in the CRI namespace.
 * - The lab's image registry has a certificate from the lab's own CA: the host trusts it through the
 *   system store (update-ca-certificates), as a site trusts its internal registry's CA.
 */

/** The systemd unit that applies the measures at boot, before containerd and the kubelet start. */
export const LAB_NODE_UNIT = "hakube-lab-node.service";
/** Where the lab registry's CA goes in each host (read by update-ca-certificates). */
export const LAB_REGISTRY_CA_PATH = "/usr/local/share/ca-certificates/hakube-lab-registry.crt";

/** The values kubelet 1.20 checks (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables). */
const KERNEL_TUNABLES: Array<[string, string]> = [
  ["vm/overcommit_memory", "1"],
  ["kernel/panic", "10"],
  ["kernel/panic_on_oops", "1"],
];

const PREPARE_SCRIPT = `#!/bin/sh
# hakube lab: measures for a Kubernetes node inside a systemd-nspawn container (see lab/hosts/node.ts).
set -eu
for d in /sys/fs/cgroup/*; do
  [ "$(findmnt -n -o FSTYPE "$d" 2>/dev/null || true)" = cgroup ] || continue
  if findmnt -n -o OPTIONS "$d" | grep -q "^ro"; then mount -o remount,bind,rw "$d"; fi
done
mkdir -p /run/hakube-lab/sysctl
${KERNEL_TUNABLES.map(
  ([k, v]) => `f=/run/hakube-lab/sysctl/${k.replace("/", "_")}
echo ${v} > "$f"
mountpoint -q /proc/sys/${k} || mount --bind "$f" /proc/sys/${k}`,
).join("\n")}
if [ -f ${LAB_REGISTRY_CA_PATH} ]; then update-ca-certificates >/dev/null 2>&1; fi
`;

const UNIT = `[Unit]
Description=hakube lab: Kubernetes node measures for a container host
DefaultDependencies=no
After=local-fs.target
Before=containerd.service kubelet.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/hakube-lab-node

[Install]
WantedBy=sysinit.target
`;

/**
 * crictl stand-in: the calls kubeadm 1.20 makes (and `ps`/`images` for people), with containerd's ctr.
 * Exit codes follow crictl's: 0 on success, 1 on failure.
 */
const CRICTL = `#!/bin/sh
# hakube lab stand-in for crictl (cri-tools is not packaged by Debian): the calls kubeadm 1.20 makes,
# mapped to containerd's own ctr in the CRI namespace "k8s.io". Lab only.
set -eu
addr=/run/containerd/containerd.sock
while [ $# -gt 0 ]; do
  case "$1" in
    -r|--runtime-endpoint|-i|--image-endpoint) addr=$2; shift 2 ;;
    --runtime-endpoint=*|--image-endpoint=*) addr=\${1#*=}; shift ;;
    -t|--timeout) shift 2 ;;
    --timeout=*|-D|--debug) shift ;;
    *) break ;;
  esac
done
addr=\${addr#unix://}
ctr() { command ctr --address "$addr" -n k8s.io "$@"; }
cmd=\${1:-}
[ $# -eq 0 ] || shift
quiet=0
case "\${1:-}" in -q|--quiet) quiet=1; shift ;; esac
sandboxes() { ctr containers ls -q 'labels."io.cri-containerd.kind"==sandbox'; }
case "$cmd" in
  info|version)
    ctr version >/dev/null
    printf '{"status":{"conditions":[{"type":"RuntimeReady","status":true},{"type":"NetworkReady","status":true}]}}\\n' ;;
  pull)
    ctr images pull "$1" >/dev/null
    echo "Image is up to date for $1" ;;
  inspecti)
    [ -n "$(ctr images ls -q "name==$1")" ] || { echo "no such image $1" >&2; exit 1; }
    printf '{"status":{"repoTags":["%s"]}}\\n' "$1" ;;
  images)
    ctr images ls -q ;;
  pods)
    sandboxes ;;
  ps)
    ctr containers ls -q 'labels."io.cri-containerd.kind"==container' ;;
  stopp|stop)
    for id in "$@"; do ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done ;;
  rmp|rm)
    for id in "$@"; do
      ctr tasks delete -f "$id" >/dev/null 2>&1 || true
      ctr containers rm "$id" >/dev/null 2>&1 || true
    done ;;
  *)
    echo "crictl (hakube lab stand-in): $cmd is not supported" >&2
    exit 1 ;;
esac
`;

/** The files every lab host gets in its overlay (path inside the host, content, mode). */
export function labNodeFiles(): Array<{ path: string; content: string; mode: number }> {
  return [
    { path: "usr/local/sbin/hakube-lab-node", content: PREPARE_SCRIPT, mode: 0o755 },
    { path: `etc/systemd/system/${LAB_NODE_UNIT}`, content: UNIT, mode: 0o644 },
    { path: "usr/local/bin/crictl", content: CRICTL, mode: 0o755 },
  ];
}

/** The unit's enable link (what `systemctl enable` would make), relative to the host's root. */
export const LAB_NODE_UNIT_LINK = {
  path: `etc/systemd/system/sysinit.target.wants/${LAB_NODE_UNIT}`,
  target: `/etc/systemd/system/${LAB_NODE_UNIT}`,
};
