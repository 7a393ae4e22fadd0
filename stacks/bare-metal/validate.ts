/**
 * The bare-metal stack's checks, pure (no Pulumi import): what the components cannot see on their own
 * (which knobs go together), each problem naming the config key and the value received. The components
 * check their own args (host lists, the VIP's subnet, quorum sizes) when they are made.
 */

/** What answers on the API endpoint. */
export enum ApiEndpointKind {
  /** A KeepalivedVip on the masters, moved to a master whose API server answers /readyz. No load balancing. */
  Vip = "vip",
  /**
   * HAProxy on every master (port 8443 by default, as kubeadm's HA guide) behind a KeepalivedVip that
   * follows a live HAProxy: one address, load balanced over every ready API server. The default.
   */
  VipHaproxy = "vipHaproxy",
  /** HAProxy on dedicated hosts (`lbHosts`), behind a KeepalivedVip when there are two or more. */
  LbHosts = "lbHosts",
}

/** The port clients use, per kind: HAProxy on a master cannot take 6443 (kube-apiserver listens on *:6443). */
export const DEFAULT_API_PORTS: Record<ApiEndpointKind, number> = {
  [ApiEndpointKind.Vip]: API_SERVER_PORT,
  [ApiEndpointKind.VipHaproxy]: 8443,
  [ApiEndpointKind.LbHosts]: API_SERVER_PORT,
};

/** A VRRP router id for the VIP: the kubeadm HA guide's example; it must be unique on the segment. */
export const DEFAULT_VIRTUAL_ROUTER_ID = 51;

/** What the checks read: the stack's args with plain values. */
export interface BareMetalCheckArgs {
  apiEndpoint: ApiEndpointKind;
  lbHostCount: number;
  etcdHostCount: number;
  externalEtcd: boolean;
  vip?: { address?: string; interface?: string };
  hostKeys: Array<{ key: string; hostKey?: string }>;
}

import { API_SERVER_PORT } from "../../components/contracts";
import { isOpenSshPublicKey, show } from "../../components/validation";

export { show };

export function bareMetalProblems(a: BareMetalCheckArgs): string[] {
  const problems: string[] = [];
  if (!Object.values(ApiEndpointKind).includes(a.apiEndpoint)) {
    problems.push(
      `hakube:apiEndpoint must be one of ${Object.values(ApiEndpointKind).join(", ")}, got ${show(a.apiEndpoint)}`,
    );
  }
  const needsVip = a.apiEndpoint !== ApiEndpointKind.LbHosts || a.lbHostCount >= 2;
  if (needsVip) {
    if (!a.vip?.address) {
      problems.push(
        `hakube:vipAddress is required with hakube:apiEndpoint ${a.apiEndpoint}${a.apiEndpoint === ApiEndpointKind.LbHosts ? " and two or more hakube:lbHosts" : ""}: the virtual IP with its subnet's prefix ("10.0.0.10/24")`,
      );
    }
    if (!a.vip?.interface) {
      problems.push(
        `hakube:vipInterface is required with hakube:vipAddress: the network interface that carries the VIP, the same on every member ("eth0")`,
      );
    }
  } else if (a.vip?.address) {
    problems.push(
      `hakube:vipAddress ${show(a.vip.address)} needs two or more hakube:lbHosts to move between`,
    );
  }
  if (a.apiEndpoint === ApiEndpointKind.LbHosts && a.lbHostCount === 0) {
    problems.push(
      "hakube:lbHosts must list the load-balancer hosts with hakube:apiEndpoint lbHosts, got none",
    );
  }
  if (a.apiEndpoint !== ApiEndpointKind.LbHosts && a.lbHostCount > 0) {
    problems.push(
      `hakube:lbHosts is only used with hakube:apiEndpoint lbHosts (got ${show(a.apiEndpoint)}): remove it, or choose lbHosts`,
    );
  }
  if (a.externalEtcd && a.etcdHostCount === 0) {
    problems.push("hakube:etcdHosts must list the etcd hosts with hakube:etcdTopology external, got none");
  }
  if (!a.externalEtcd && a.etcdHostCount > 0) {
    problems.push(
      "hakube:etcdHosts is only used with hakube:etcdTopology external (stacked etcd runs on the masters): remove it, or set hakube:etcdTopology external",
    );
  }
  for (const h of a.hostKeys) {
    if (!isOpenSshPublicKey(h.hostKey)) {
      problems.push(
        `${h.key}.hostKey must be the host's SSH public key as ssh-keyscan prints it ("ssh-ed25519 AAAA..."): every connection pins it, got ${show(h.hostKey)}`,
      );
    }
  }
  return problems;
}
