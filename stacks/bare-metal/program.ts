/**
 * The bare-metal stack: hosts you have (masters, workers, optional etcd and load-balancer hosts), an API
 * endpoint made of a KeepalivedVip and/or HAProxy (hakube.LoadBalancer kind haproxy), etcd stacked or a
 * hakube.EtcdCluster, and hakube's HaControlPlane behind the endpoint.
 *
 * A thin program: hosts in, components wired together, outputs out. The checks of knobs that go
 * together are pure and live in ./validate.ts; stacks/index.ts builds {@link BareMetalStackArgs} from
 * `hakube:*` config.
 */
import * as pulumi from "@pulumi/pulumi";
import * as hakube from "../../index";
import { externalEtcd, type ClusterArgs, type EtcdStackArgs } from "../common";
import { ApiEndpointKind, bareMetalProblems, DEFAULT_API_PORTS, DEFAULT_VIRTUAL_ROUTER_ID } from "./validate";

export { ApiEndpointKind } from "./validate";

export type { ClusterArgs, EtcdStackArgs } from "../common";

/** A machine as the inventory names it. */
export interface BareMetalHostArgs {
  /** A DNS label, unique among the hosts of its role: resource names derive from it. */
  name: string;
  /** The address the other hosts and the Pulumi host reach it at. */
  address: string;
  /** Its SSH public key ("ssh-ed25519 AAAA..."), as `ssh-keyscan -t ed25519 <address>` prints it: pinned. */
  hostKey: string;
  /** hakube's host scripts run as root. @default "root" */
  user?: string;
  /** @default 22 */
  port?: number;
}

export interface BareMetalStackArgs {
  /** In order: the first runs `kubeadm init`, the others join one at a time. 3, 5 or 7 with stacked etcd. */
  masters: BareMetalHostArgs[];
  /** @default none */
  workers?: BareMetalHostArgs[];
  /** External etcd only: the EtcdCluster's members. */
  etcdHosts?: BareMetalHostArgs[];
  /** `apiEndpoint: lbHosts` only: the hosts that run HAProxy (and the VIP, with two or more). */
  lbHosts?: BareMetalHostArgs[];
  /** The private key every host accepts for its user. Treated as a secret. */
  privateKey: pulumi.Input<string>;
  /** A jump host between the Pulumi host and the others. @default none */
  bastion?: hakube.ProxyConnectionArgs;
  /** @default ApiEndpointKind.VipHaproxy */
  apiEndpoint?: ApiEndpointKind;
  /** The VIP: address with its subnet's prefix ("10.0.0.10/24"), the interface, the VRRP router id. */
  vip?: { address?: string; interface?: string; virtualRouterId?: number };
  /** The endpoint's port. @default DEFAULT_API_PORTS[apiEndpoint] */
  apiPort?: number;
  kubernetes: ClusterArgs;
  /** @default { topology: hakube.EtcdTopology.Stacked } */
  etcd?: EtcdStackArgs;
}

export function bareMetalStack(args: BareMetalStackArgs) {
  const kind = args.apiEndpoint ?? ApiEndpointKind.VipHaproxy;
  const external = (args.etcd?.topology ?? hakube.EtcdTopology.Stacked) === hakube.EtcdTopology.External;
  const roles: Array<[string, BareMetalHostArgs[] | undefined]> = [
    ["hakube:masters", args.masters],
    ["hakube:workers", args.workers],
    ["hakube:etcdHosts", args.etcdHosts],
    ["hakube:lbHosts", args.lbHosts],
  ];
  const problems = bareMetalProblems({
    apiEndpoint: kind,
    lbHostCount: args.lbHosts?.length ?? 0,
    etcdHostCount: args.etcdHosts?.length ?? 0,
    externalEtcd: external,
    vip: args.vip,
    hostKeys: roles.flatMap(([key, hosts]) =>
      (hosts ?? []).map((h, i) => ({ key: `${key}[${i}]`, hostKey: h.hostKey })),
    ),
  });
  if (problems.length > 0) {
    throw new pulumi.RunError(
      `the bare-metal stack has invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }

  const host = (h: BareMetalHostArgs): hakube.HostArgs => ({
    name: h.name,
    address: h.address,
    connection: {
      host: h.address,
      port: h.port,
      user: h.user ?? "root",
      privateKey: args.privateKey,
      hostKey: h.hostKey,
      proxy: args.bastion,
    },
  });
  const masters = args.masters.map(host);
  const workers = (args.workers ?? []).map(host);
  const port = args.apiPort ?? DEFAULT_API_PORTS[kind];
  const vipHost = args.vip?.address?.split("/")[0];

  // The cluster CA, made here so that HAProxy's health checks can verify the API servers with it.
  const ca = new hakube.CertificateAuthority("cluster-ca", { commonName: "kubernetes" });
  const backends = masters.map((m) => ({ name: m.name, address: m.address }));
  const vip = (members: hakube.HostArgs[], check: hakube.VipHealthCheckKind) =>
    new hakube.KeepalivedVip("api-vip", {
      address: args.vip!.address!,
      interface: args.vip!.interface!,
      members,
      virtualRouterId: args.vip?.virtualRouterId ?? DEFAULT_VIRTUAL_ROUTER_ID,
      port,
      healthCheck: { kind: check },
    });

  // The endpoint, as an output that resolves once it forwards: HaControlPlane's commands wait for it
  // (kubeadm init talks to the API through it) without dependsOn.
  let endpoint: pulumi.Output<string>;
  if (kind === ApiEndpointKind.Vip) {
    endpoint = vip(masters, hakube.VipHealthCheckKind.ApiServer).endpoint;
  } else {
    const lbHosts = kind === ApiEndpointKind.VipHaproxy ? masters : (args.lbHosts ?? []).map(host);
    // keepalived follows HAProxy (its check asks HAProxy's health port); HAProxy binds the VIP's address.
    const apiVip = vipHost !== undefined ? vip(lbHosts, hakube.VipHealthCheckKind.Haproxy) : undefined;
    const lb = new hakube.LoadBalancer("api-lb", {
      kind: hakube.LoadBalancerKind.Haproxy,
      port,
      haproxy: { hosts: lbHosts, bindAddress: apiVip?.address, backends, caCertPem: ca.certPem },
    });
    // Both say the same host:port; waiting for both means HAProxy answers on every host and the VIP
    // is held by exactly one of them, accepting connections.
    endpoint = apiVip ? pulumi.all([apiVip.endpoint, lb.endpoint]).apply(([viaVip]) => viaVip) : lb.endpoint;
  }

  const etcd = external
    ? new hakube.EtcdCluster("etcd", {
        members: (args.etcdHosts ?? []).map(host),
        version: args.etcd?.version,
        install: args.etcd?.install,
      })
    : undefined;

  // No dependsOn: the endpoint and the external etcd's outputs carry the order.
  const k8s = new hakube.HaControlPlane("k8s", {
    ...args.kubernetes,
    masters,
    workers,
    endpoint,
    ca,
    etcd: externalEtcd(etcd),
  });

  return {
    endpoint: k8s.endpoint,
    kubeconfig: k8s.kubeconfig,
    clusterCaCertPem: k8s.caCertPem,
    etcdEndpoints: etcd?.clientEndpoints,
  };
}
