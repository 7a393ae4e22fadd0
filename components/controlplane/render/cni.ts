/** The Helm values hakube gives each pod network (CNI) chart. Pure: no Pulumi import. */
import { CNI_CHARTS } from "../defaults";
import { parseCidr } from "../../net";
import { CniKind, ControlPlaneSettings } from "../types";
import { show } from "../../show";

/** The chart of a CNI and where it goes. */
export function cniChart(
  kind: CniKind,
  repository?: string,
): { repository: string; chart: string; namespace: string } {
  const c = CNI_CHARTS[kind];
  if (!c) throw new Error(`unknown CNI ${show(kind)}`);
  return { ...c, repository: repository ?? c.repository };
}

/**
 * hakube's values for the chart; the user's `cni.values` are merged over them (top-level keys replace).
 * - Cilium: pod addresses from the CIDR kube-controller-manager gives each node (kubeadm's podSubnet), and
 *   the API server reached through the endpoint (what Cilium needs without kube-proxy).
 * - Calico (tigera-operator): one pool equal to podSubnet, VXLAN only across subnets, NAT for traffic
 *   leaving the pod network; the operator also learns the endpoint.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Helm values are free-form
export function cniChartValues(kind: CniKind, s: ControlPlaneSettings): { [key: string]: any } {
  const ipv6 = parseCidr(s.podSubnet)?.family === 6;
  switch (kind) {
    case CniKind.Cilium:
      return {
        ipam: { mode: "kubernetes" },
        ipv4: { enabled: !ipv6 },
        ipv6: { enabled: ipv6 },
        k8sServiceHost: s.endpoint.host,
        k8sServicePort: s.endpoint.port,
      };
    case CniKind.Calico:
      return {
        installation: {
          cni: { type: "Calico" },
          calicoNetwork: {
            ipPools: [
              {
                cidr: s.podSubnet,
                encapsulation: "VXLANCrossSubnet",
                natOutgoing: "Enabled",
                nodeSelector: "all()",
              },
            ],
          },
        },
        kubernetesServiceEndpoint: { host: s.endpoint.host, port: String(s.endpoint.port) },
      };
  }
  throw new Error(`unknown CNI ${show(kind)}`);
}
