/**
 * HaControlPlane's network checks: the endpoint, the pod and service subnets, and the etcd topology with
 * an external etcd's endpoints (checked here when plain, once resolved when Outputs). Pure.
 */
import { isHttpUrl, isIP, isPending, oneOfProblem, Problem, show, ValidationResult } from "../validation";
import {
  DEFAULT_POD_SUBNET,
  DEFAULT_SERVICE_SUBNET,
  MAX_SERVICE_SUBNET_HOST_BITS,
  MIN_SERVICE_SUBNET_HOST_BITS,
  NODE_CIDR_MASK,
  POD_SUBNET_NODE_MASK_MAX_DIFF,
} from "./defaults";
import { addressKey, Cidr, cidrContains, cidrsOverlap, ipValue, parseCidr, parseHostPort } from "../net";
import { EtcdTopology, HaControlPlaneArgs } from "./types";

export function endpointProblems(args: HaControlPlaneArgs): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const masters = Array.isArray(args.masters) ? args.masters : [];
  if (isPending(args.endpoint)) return { errors, warnings }; // checked once it resolves
  if (args.endpoint === undefined) {
    if (masters.length > 1) {
      errors.push({
        path: "endpoint",
        message: `endpoint is required with more than one master: the "host:port" of the VIP or load balancer in front of the API servers, got undefined`,
      });
    }
    return { errors, warnings };
  }
  const ep = parseHostPort(args.endpoint);
  if (!ep) {
    errors.push({
      path: "endpoint",
      message: `endpoint must be "host:port" with a DNS name, an IPv4 address or an IPv6 address in brackets, and a port 1-65535, got ${show(args.endpoint)}`,
    });
    return { errors, warnings };
  }
  const own = isIP(ep.host) ? masters.findIndex((m) => addressKey(m?.address) === addressKey(ep.host)) : -1;
  if (own >= 0 && masters.length > 1) {
    warnings.push({
      path: "endpoint",
      message: `endpoint ${show(args.endpoint)} is masters[${own}]'s own address: clients lose the API whenever that master is down; use a VIP or a load balancer`,
    });
  }
  return { errors, warnings };
}

function cidrProblem(path: string, value: unknown, example: string): Problem {
  return {
    path,
    message: `${path} must be a CIDR block such as ${show(example)} (a network address, no host bits set), got ${show(value)}`,
  };
}

export function subnetProblems(args: HaControlPlaneArgs): Problem[] {
  const problems: Problem[] = [];
  const podText = args.podSubnet ?? DEFAULT_POD_SUBNET;
  const serviceText = args.serviceSubnet ?? DEFAULT_SERVICE_SUBNET;
  const pod = parseCidr(podText);
  const service = parseCidr(serviceText);
  if (!pod) problems.push(cidrProblem("podSubnet", podText, DEFAULT_POD_SUBNET));
  if (!service) problems.push(cidrProblem("serviceSubnet", serviceText, DEFAULT_SERVICE_SUBNET));
  const masters = Array.isArray(args.masters) ? args.masters : [];
  const family = ipValue(masters[0]?.address)?.family;
  if (service) {
    const maxPrefix = (service.family === 4 ? 32 : 128) - MIN_SERVICE_SUBNET_HOST_BITS;
    const minPrefix = (service.family === 4 ? 32 : 128) - MAX_SERVICE_SUBNET_HOST_BITS;
    if (family !== undefined && service.family !== family) {
      problems.push({
        path: "serviceSubnet",
        message: `serviceSubnet must be of the masters' IP family (IPv${family}): the API server's Service address comes from it, got ${show(serviceText)}`,
      });
    } else if (service.prefixLength < minPrefix || service.prefixLength > maxPrefix) {
      problems.push({
        path: "serviceSubnet",
        message: `serviceSubnet must be /${minPrefix} to /${maxPrefix} for IPv${service.family} (kubeadm's and kube-apiserver's limits), got ${show(serviceText)}`,
      });
    }
  }
  if (pod) {
    const nodeMask = NODE_CIDR_MASK[pod.family];
    const minPrefix = nodeMask - POD_SUBNET_NODE_MASK_MAX_DIFF;
    if (family !== undefined && pod.family !== family) {
      problems.push({
        path: "podSubnet",
        message: `podSubnet must be of the masters' IP family (IPv${family}), got ${show(podText)}`,
      });
    } else if (pod.prefixLength < minPrefix || pod.prefixLength > nodeMask) {
      problems.push({
        path: "podSubnet",
        message: `podSubnet must be /${minPrefix} to /${nodeMask} for IPv${pod.family}: every node gets a /${nodeMask} from it and kubeadm allows at most ${POD_SUBNET_NODE_MASK_MAX_DIFF} bits between the two, got ${show(podText)}`,
      });
    }
  }
  if (pod && service && cidrsOverlap(pod, service)) {
    problems.push({
      path: "podSubnet",
      message: `podSubnet ${show(podText)} overlaps serviceSubnet ${show(serviceText)}`,
    });
  }
  const blocks: Array<[string, Cidr | undefined]> = [
    ["podSubnet", pod],
    ["serviceSubnet", service],
  ];
  const addresses: Array<[string, unknown]> = [
    ...masters.map((m, i): [string, unknown] => [`masters[${i}].address`, m?.address]),
    ...(Array.isArray(args.workers) ? args.workers : []).map((w, i): [string, unknown] => [
      `workers[${i}].address`,
      w?.address,
    ]),
  ];
  const ep = parseHostPort(args.endpoint);
  if (ep && isIP(ep.host)) addresses.push(["the endpoint", ep.host]);
  for (const [name, block] of blocks) {
    if (!block) continue;
    for (const [where, address] of addresses) {
      if (typeof address === "string" && cidrContains(block, address)) {
        problems.push({
          path: name,
          message: `${name} ${show(block.text)} contains ${where} ${show(address)}: pod and Service addresses must not collide with the hosts' network`,
        });
      }
    }
  }
  return problems;
}

/** Problems in resolved external etcd endpoints (plain here, or from an Output in the component). */
export function externalEtcdEndpointProblems(endpoints: unknown, colocated = false): Problem[] {
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    return [
      {
        path: "etcd.endpoints",
        message: `etcd.endpoints must list at least one URL, got ${show(endpoints)}`,
      },
    ];
  }
  const problems: Problem[] = [];
  endpoints.forEach((e, i) => {
    let ok = false;
    if (typeof e === "string" && isHttpUrl(e, true)) {
      const u = new URL(e);
      ok = u.port !== "" && (u.pathname === "/" || u.pathname === "") && u.search === "" && !e.endsWith("/");
    }
    if (!ok) {
      problems.push({
        path: `etcd.endpoints[${i}]`,
        message: `etcd.endpoints[${i}] must be an https URL with a host and a port and nothing after them, such as "https://10.0.0.21:2379", got ${show(e)}`,
      });
    }
  });
  if (
    problems.length === 0 &&
    colocated &&
    new Set(endpoints.map((e) => new URL(e as string).port)).size > 1
  ) {
    problems.push({
      path: "etcd.endpoints",
      message: `etcd.colocated needs every member on one client port (each API server uses https://127.0.0.1:<port>), got ${show(endpoints)}`,
    });
  }
  return problems;
}

const EXTERNAL_ETCD_FIELDS = ["endpoints", "caCertPem", "clientCertPem", "clientKeyPem"] as const;

export function etcdProblems(args: HaControlPlaneArgs): Problem[] {
  const problems: Problem[] = [];
  const etcd = args.etcd ?? {};
  const topology = etcd.topology ?? EtcdTopology.Stacked;
  const badTopology = oneOfProblem(topology, Object.values(EtcdTopology), "etcd.topology");
  if (badTopology) return [badTopology];
  for (const key of EXTERNAL_ETCD_FIELDS) {
    const value = etcd[key];
    if (topology === EtcdTopology.External) {
      if (value === undefined || value === null || value === "") {
        problems.push({
          path: `etcd.${key}`,
          message: `etcd.${key} is required with etcd.topology "external"${key === "endpoints" ? ": the etcd client URLs (EtcdCluster.clientEndpoints)" : ""}, got ${show(value)}`,
        });
      }
    } else if (value !== undefined) {
      problems.push({
        path: `etcd.${key}`,
        message: `etcd.${key} only applies to etcd.topology "external", got it with ${show(topology)}`,
      });
    }
  }
  if (etcd.colocated !== undefined) {
    if (typeof etcd.colocated !== "boolean") {
      problems.push({
        path: "etcd.colocated",
        message: `etcd.colocated must be true or false, got ${show(etcd.colocated)}`,
      });
    } else if (topology !== EtcdTopology.External) {
      problems.push({
        path: "etcd.colocated",
        message: `etcd.colocated only applies to etcd.topology "external" (stacked etcd is always local), got it with ${show(topology)}`,
      });
    }
  }
  // Plain endpoints are checked now; an Output is checked when it resolves.
  if (topology === EtcdTopology.External && Array.isArray(etcd.endpoints)) {
    const plain = etcd.endpoints as unknown[];
    if (plain.every((e) => typeof e === "string")) {
      problems.push(...externalEtcdEndpointProblems(plain, etcd.colocated === true));
    }
  }
  return problems;
}
