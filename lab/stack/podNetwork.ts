/**
 * The lab's pod network: no pod network image can be had here (Cilium, Calico and flannel are not in
 * Debian), so the lab uses the CNI reference plugins Debian packages (bridge + host-local) with static
 * routes between the hosts, which share one bridge: each node's pods get addresses from the node's
 * podCIDR (allocated by kube-controller-manager), and every node routes the other nodes' podCIDRs to
 * those nodes' addresses. Lab only: a real cluster installs a CNI (HaControlPlane's `cni`).
 *
 * The hosts have no default route (the lab has no route out), so a route for the Service range stands
 * in for it: a process on a node then reaches a ClusterIP as on any real node (kube-proxy's DNAT happens
 * after the route lookup of locally made packets).
 *
 * kubeadm 1.20 deploys CoreDNS, whose image cannot be made here (not packaged by Debian): the first
 * master scales it to zero replicas, so that nothing sits in ErrImagePull, and says so.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { COMMAND_DEFAULTS, HostArgs, secretConnection } from "../../components/hosts";
import { shAssignments, shFunctions, shQuote } from "../../components/shell";

const CONFLIST = "/etc/cni/net.d/10-hakube-lab.conflist";
const ROUTES = "/etc/systemd/network/80-container-host0.network.d/hakube-lab-routes.conf";
const KUBELET_CONF = "/etc/kubernetes/kubelet.conf";
const ADMIN_CONF = "/etc/kubernetes/admin.conf";
const TIMEOUT_SECONDS = 300;

/** The bridge plugin's configuration for one node's podCIDR. */
export function renderConflist(podCidr: string): string {
  return (
    JSON.stringify(
      {
        cniVersion: "0.4.0",
        name: "hakube-lab",
        plugins: [
          {
            type: "bridge",
            bridge: "cni0",
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: { type: "host-local", ranges: [[{ subnet: podCidr }]], routes: [{ dst: "0.0.0.0/0" }] },
          },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ) + "\n"
  );
}

/**
 * One node's step: wait until every node has a podCIDR, write its CNI configuration, and route the other
 * nodes' podCIDRs and the Service range (networkd keeps the routes across a reboot; `ip route replace`
 * applies them now). Idempotent.
 */
export function renderPodNetworkScript(
  node: string,
  nodes: readonly string[],
  serviceSubnet: string,
): string {
  return [
    `# hakube lab: the lab's pod network on ${node} (lab/stack/podNetwork.ts)`,
    "set -eu",
    shAssignments([
      ["NAME", node],
      ["NODES", nodes.join(" ")],
      ["SERVICES", serviceSubnet],
      ["TIMEOUT", TIMEOUT_SECONDS],
    ]),
    shFunctions(`hakube lab pod network ${node}`),
    `k() { kubectl --kubeconfig=${KUBELET_CONF} "$@"; }
deadline=$(( $(date +%s) + TIMEOUT ))
while :; do
  missing=""
  for n in $NODES; do
    [ -n "$(k get node "$n" -o 'jsonpath={.spec.podCIDR}' 2>/dev/null || true)" ] || missing="$missing $n"
  done
  [ -n "$missing" ] || break
  [ "$(date +%s)" -lt "$deadline" ] || fail "no podCIDR after $TIMEOUT s for:$missing"
  sleep 2
done
own=$(k get node "$NAME" -o 'jsonpath={.spec.podCIDR}')
install -d -m 0755 /etc/cni/net.d "$(dirname ${ROUTES})"
printf '%s' ${shQuote(renderConflist("@POD_CIDR@"))} | sed "s|@POD_CIDR@|$own|" | put ${CONFLIST} 0644 root:root
{
  echo "# hakube lab: routes to the other nodes' pods and to the Service range (no default route here)."
  echo "[Route]"
  echo "Destination=$SERVICES"
  echo "Scope=link"
  for n in $NODES; do
    [ "$n" != "$NAME" ] || continue
    cidr=$(k get node "$n" -o 'jsonpath={.spec.podCIDR}')
    ip=$(k get node "$n" -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')
    printf '[Route]\\nDestination=%s\\nGateway=%s\\n' "$cidr" "$ip"
    ip route replace "$cidr" via "$ip" dev host0
  done
} | put ${ROUTES} 0644 root:root
ip route replace "$SERVICES" dev host0 scope link
# The kubelet reports the node Ready once it finds the network's configuration.
until [ "$(k get node "$NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)" = True ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "$NAME is not Ready $TIMEOUT s after its pod network was set up"
  sleep 1
done
say "$NAME is Ready; its pods get addresses from $own"`,
    "",
  ].join("\n");
}

export interface LabPodNetworkArgs {
  /** Every node, masters first; the first runs the CoreDNS step. */
  nodes: HostArgs[];
  serviceSubnet: string;
}

export class LabPodNetwork extends pulumi.ComponentResource {
  constructor(name: string, args: LabPodNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube-lab:index:LabPodNetwork", name, {}, opts);
    const names = args.nodes.map((n) => n.name);
    for (const node of args.nodes) {
      new remote.Command(
        `${name}-${node.name}`,
        {
          connection: secretConnection(node.connection),
          create: renderPodNetworkScript(node.name, names, args.serviceSubnet),
          ...COMMAND_DEFAULTS,
        },
        { parent: this },
      );
    }
    const first = args.nodes[0];
    new remote.Command(
      `${name}-coredns`,
      {
        connection: secretConnection(first.connection),
        create: `set -eu
kubectl --kubeconfig=${ADMIN_CONF} -n kube-system scale deployment coredns --replicas=0 >/dev/null
echo "hakube lab: CoreDNS scaled to zero: its image cannot be made here (CoreDNS is not packaged by Debian)"`,
        ...COMMAND_DEFAULTS,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
