/**
 * Pure renderers for the node files hakube writes itself: containerd's configuration (every install
 * method but preinstalled) and, for the `release` install, the kubelet's systemd unit with kubeadm's
 * drop-in (the package install gets both from the kubelet and kubeadm packages). No Pulumi import.
 */
import { CNI_BIN_DIR, CNI_CONF_DIR, RELEASE_BIN_DIR } from "../defaults";
import { ControlPlaneSettings } from "../types";

/**
 * containerd's configuration, format version 2 (containerd 1.5 to 1.7; containerd 2 reads and migrates
 * it). Only what hakube decides; containerd's defaults hold for the rest:
 * - the sandbox (pause) image kubeadm of this version expects, from `imageRepository`;
 * - runc with the cgroup driver the kubelet uses (SystemdCgroup), which must match;
 * - the CNI plugins in /opt/cni/bin and configurations in /etc/cni/net.d (the pod network installs its
 *   own there: Cilium and Calico write to these paths);
 * - with `nodesInContainers`, restrict_oom_score_adj: a node that is a container lacks CAP_SYS_RESOURCE,
 *   and runc fails to set the negative OOM score adjustment the kubelet asks for.
 */
export function renderContainerdConfig(s: ControlPlaneSettings): string {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  return [
    "# Managed by hakube (HaControlPlane): containerd for the kubelet. containerd's defaults hold for the rest.",
    "version = 2",
    "",
    `[${cri}]`,
    `  sandbox_image = "${s.pauseImage}"`,
    ...(s.nodesInContainers
      ? [
          "  # The node is a container without CAP_SYS_RESOURCE (HaControlPlane nodesInContainers).",
          "  restrict_oom_score_adj = true",
        ]
      : []),
    "",
    `[${cri}.containerd]`,
    `  default_runtime_name = "runc"`,
    "",
    `[${cri}.containerd.runtimes.runc]`,
    `  runtime_type = "io.containerd.runc.v2"`,
    "",
    `[${cri}.containerd.runtimes.runc.options]`,
    `  SystemdCgroup = ${s.cgroupDriver === "systemd"}`,
    "",
    `[${cri}.cni]`,
    `  bin_dir = "${CNI_BIN_DIR}"`,
    `  conf_dir = "${CNI_CONF_DIR}"`,
    "",
  ].join("\n");
}

/** The kubelet's systemd unit for a release install: kubeadm's drop-in gives it its flags. */
export function renderKubeletUnit(): string {
  return `# Managed by hakube (HaControlPlane): the kubelet, started by kubeadm's drop-in (kubelet.service.d/).
[Unit]
Description=kubelet: the Kubernetes node agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target containerd.service

[Service]
ExecStart=${RELEASE_BIN_DIR}/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
}

/**
 * kubeadm's drop-in for the kubelet, as the kubeadm package installs it: kubeadm writes the kubelet's
 * configuration (/var/lib/kubelet/config.yaml), its flags (kubeadm-flags.env) and kubeconfigs, and the
 * kubelet waits in a restart loop until they exist.
 */
export function renderKubeletKubeadmDropIn(): string {
  return `# Managed by hakube (HaControlPlane): what kubeadm expects of the kubelet's unit.
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# Written by kubeadm init and join: KUBELET_KUBEADM_ARGS.
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# For the site's own flags: KUBELET_EXTRA_ARGS.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=${RELEASE_BIN_DIR}/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
}
