/**
 * Pure validation of HaControlPlaneArgs: every rule returns problems that name the argument and the value.
 * Runs synchronously in the HaControlPlane constructor, before any resource exists. Values that may be
 * Outputs (external etcd endpoints) are checked here when plain, and by {@link externalEtcdEndpointProblems}
 * once resolved.
 */
import { describeQuorum, faultTolerance } from "../quorum";
import { caKeyPairProblems, KeyAlgorithm } from "../pki/profiles";
import { isPastEndOfLife, MAX_KNOWN_KUBERNETES_MINOR, MIN_KUBERNETES_MINOR, minorProfile } from "./versions";
import {
  hostListProblems,
  isHttpUrl,
  isIP,
  isPending,
  isPort,
  isSha256,
  isWholeInRange,
  Problem,
  show,
  ValidationResult,
} from "../validation";
import { checkInstall, httpUrlProblems, InstallMethod, InstallRules } from "../install";
import {
  ECDSA_P384_MIN_MINOR,
  ENCRYPTION_ALGORITHM_MIN_MINOR,
  KUBEADM_ENCRYPTION_ALGORITHMS,
  MAX_SERVICE_SUBNET_HOST_BITS,
  MIN_SERVICE_SUBNET_HOST_BITS,
  NODE_CIDR_MASK,
  POD_SUBNET_NODE_MASK_MAX_DIFF,
  DEFAULT_POD_SUBNET,
  DEFAULT_SERVICE_SUBNET,
} from "./defaults";
import {
  Cidr,
  cidrContains,
  cidrsOverlap,
  ipValue,
  isDnsName,
  isSanDnsName,
  parseCidr,
  parseHostPort,
} from "../net";
import {
  CniKind,
  EtcdTopology,
  HaControlPlaneArgs,
  LeaderElectionProfile,
  SecretsEncryptionProvider,
} from "./types";

/** Above this, etcd's write latency grows and its documentation advises against it (as EtcdCluster). */
const MAX_RECOMMENDED_ETCD_MEMBERS = 7;

/** kube-apiserver flags that hakube sets; `apiServer.extraArgs` may not set them. */
export const MANAGED_API_SERVER_FLAGS = [
  "advertise-address",
  "secure-port",
  "etcd-servers",
  "etcd-cafile",
  "etcd-certfile",
  "etcd-keyfile",
  "service-cluster-ip-range",
  "client-ca-file",
  "tls-cert-file",
  "tls-private-key-file",
  "service-account-key-file",
  "service-account-signing-key-file",
  "service-account-issuer",
  "audit-policy-file",
  "audit-log-path",
  "audit-log-maxage",
  "audit-log-maxbackup",
  "audit-log-maxsize",
  "encryption-provider-config",
  "oidc-issuer-url",
  "oidc-client-id",
  "oidc-username-claim",
  "oidc-username-prefix",
  "oidc-groups-claim",
  "oidc-groups-prefix",
];

/** Parse "1.31.4" or "v1.31.4"; undefined for anything else (pre-releases included). */
export function parseKubernetesVersion(
  v: unknown,
): { major: number; minor: number; patch: number } | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** A string that can go into a flag value or YAML safely: no whitespace, quotes, backslashes. */
function isToken(v: unknown): boolean {
  return typeof v === "string" && /^[^\s"'\\]+$/.test(v);
}

/**
 * @param today the date that decides whether `kubernetesVersion` is past its end of life (tests pin it)
 */
export function validateHaControlPlaneArgs(
  args: HaControlPlaneArgs | undefined,
  today: Date = new Date(),
): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  if (!args || typeof args !== "object") {
    return {
      errors: [
        { path: "", message: `args must be an object with masters and kubernetesVersion, got ${show(args)}` },
      ],
      warnings,
    };
  }
  const topology = args.etcd?.topology ?? EtcdTopology.Stacked;
  errors.push(...hostListProblems(args.masters, "masters"));
  warnings.push(...masterCountWarnings(Array.isArray(args.masters) ? args.masters.length : 0, topology));
  errors.push(...workerProblems(args));
  const endpoint = endpointProblems(args);
  errors.push(...endpoint.errors);
  warnings.push(...endpoint.warnings);
  const version = versionProblems(args, today);
  errors.push(...version.errors);
  warnings.push(...version.warnings);
  errors.push(...subnetProblems(args));
  errors.push(...etcdProblems(args));
  errors.push(...apiServerProblems(args));
  errors.push(...checkInstall(args.install, "install", INSTALL_RULES).problems);
  errors.push(...keyAlgorithmProblems(args));
  errors.push(...caProblems(args));
  warnings.push(...sharedCaWarnings(args));
  errors.push(...miscProblems(args));
  errors.push(...cniProblems(args));
  if (!Array.isArray(args.workers) || args.workers.length === 0) {
    warnings.push({
      path: "workers",
      message:
        "workers is empty: the masters keep kubeadm's control-plane taint, so ordinary pods have nowhere to run until workers are added",
    });
  }
  return { errors, warnings };
}

function masterCountWarnings(n: number, topology: EtcdTopology): Problem[] {
  const warnings: Problem[] = [];
  if (n === 0) return warnings;
  if (topology !== EtcdTopology.Stacked) {
    if (n < 2) {
      warnings.push({
        path: "masters",
        message: `masters has ${n}: a single API server is not highly available; use 2 or more (etcd is external, so any count keeps quorum)`,
      });
    }
    return warnings;
  }
  // Stacked: every master is an etcd member, so the etcd quorum rules apply (same wording as EtcdCluster).
  const stacked = `masters has ${n === 1 ? "1, which runs" : `${n}, each running`} a stacked etcd member`;
  if (n % 2 === 0) {
    warnings.push({
      path: "masters",
      message: `${stacked} and an even count: ${describeQuorum(n)}, no more than ${n - 1} would; use an odd number (1, 3, 5, 7)`,
    });
  }
  if (n < 3) {
    warnings.push({
      path: "masters",
      message: `${stacked}: ${describeQuorum(n)}; use 3 or more for high availability`,
    });
  }
  if (n > MAX_RECOMMENDED_ETCD_MEMBERS) {
    warnings.push({
      path: "masters",
      message: `${stacked}: ${describeQuorum(n)}, but every write waits for ${n - faultTolerance(n)} members; etcd advises at most ${MAX_RECOMMENDED_ETCD_MEMBERS}`,
    });
  }
  return warnings;
}

function workerProblems(args: HaControlPlaneArgs): Problem[] {
  if (args.workers === undefined) return [];
  if (!Array.isArray(args.workers)) {
    return [{ path: "workers", message: `workers must be a list of hosts, got ${show(args.workers)}` }];
  }
  if (args.workers.length === 0) return [];
  const problems = hostListProblems(args.workers, "workers");
  const masters = Array.isArray(args.masters) ? args.masters : [];
  args.workers.forEach((w, i) => {
    for (const key of ["name", "address"] as const) {
      const j = masters.findIndex((m) => m?.[key] !== undefined && m[key] === w?.[key]);
      if (j >= 0) {
        problems.push({
          path: `workers[${i}].${key}`,
          message: `workers[${i}].${key} ${show(w[key])} is already used by masters[${j}]: a host is a master or a worker, not both`,
        });
      }
    }
  });
  return problems;
}

function endpointProblems(args: HaControlPlaneArgs): ValidationResult {
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
  const own = masters.findIndex((m) => sameIp(m?.address, ep.host));
  if (own >= 0 && masters.length > 1) {
    warnings.push({
      path: "endpoint",
      message: `endpoint ${show(args.endpoint)} is masters[${own}]'s own address: clients lose the API whenever that master is down; use a VIP or a load balancer`,
    });
  }
  return { errors, warnings };
}

function sameIp(a: unknown, b: unknown): boolean {
  const x = ipValue(a);
  const y = ipValue(b);
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}

function versionProblems(args: HaControlPlaneArgs, today: Date): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const v = parseKubernetesVersion(args.kubernetesVersion);
  const profile = v && v.major === 1 ? minorProfile(v.minor) : undefined;
  if (!v) {
    errors.push({
      path: "kubernetesVersion",
      message: `kubernetesVersion must be a release version such as "1.31.4" (or "v1.31.4"), got ${show(args.kubernetesVersion)}`,
    });
  } else if (!profile) {
    errors.push({
      path: "kubernetesVersion",
      message: `kubernetesVersion must be 1.${MIN_KUBERNETES_MINOR} or later (hakube renders kubeadm's v1beta2, v1beta3 and v1beta4 configuration, for 1.${MIN_KUBERNETES_MINOR} on), got ${show(args.kubernetesVersion)}`,
    });
  } else if (v.minor > MAX_KNOWN_KUBERNETES_MINOR) {
    warnings.push({
      path: "kubernetesVersion",
      message: `kubernetesVersion ${show(args.kubernetesVersion)} is newer than 1.${MAX_KNOWN_KUBERNETES_MINOR}, the newest minor hakube was written against; it is configured as 1.${MAX_KNOWN_KUBERNETES_MINOR} (kubeadm ${profile.kubeadmApi}): check that kubeadm still reads it`,
    });
  } else if (isPastEndOfLife(profile, today)) {
    warnings.push({
      path: "kubernetesVersion",
      message: `kubernetesVersion ${show(args.kubernetesVersion)}: Kubernetes 1.${v.minor} reached its end of life on ${profile.endOfLife} and gets no security fixes any more; plan an upgrade to a supported minor`,
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

function subnetProblems(args: HaControlPlaneArgs): Problem[] {
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
/**
 * The etcd URLs the API servers use: the external members' URLs, or with `colocated` the local member at
 * the members' port (all members must listen on one port then). Call after externalEtcdEndpointProblems.
 */
export function apiServerEtcdEndpoints(endpoints: readonly string[], colocated: boolean): string[] {
  if (!colocated) return [...endpoints];
  const ports = [...new Set(endpoints.map((e) => new URL(e).port))];
  if (ports.length !== 1) {
    throw new Error(`etcd.colocated needs every member on one client port, got ports ${ports.join(", ")}`);
  }
  return [`https://127.0.0.1:${ports[0]}`];
}

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

function etcdProblems(args: HaControlPlaneArgs): Problem[] {
  const problems: Problem[] = [];
  const etcd = args.etcd ?? {};
  const topology = etcd.topology ?? EtcdTopology.Stacked;
  const topologies = Object.values(EtcdTopology) as string[];
  if (!topologies.includes(topology)) {
    return [
      {
        path: "etcd.topology",
        message: `etcd.topology must be one of ${topologies.join(", ")}, got ${show(topology)}`,
      },
    ];
  }
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

function stringListProblems(
  list: unknown,
  path: string,
  ok: (v: unknown) => boolean,
  what: string,
): Problem[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return [{ path, message: `${path} must be a list, got ${show(list)}` }];
  return list.flatMap((v, i) =>
    ok(v) ? [] : [{ path: `${path}[${i}]`, message: `${path}[${i}] must be ${what}, got ${show(v)}` }],
  );
}

function apiServerProblems(args: HaControlPlaneArgs): Problem[] {
  const problems: Problem[] = [];
  const api = args.apiServer ?? {};
  problems.push(
    ...stringListProblems(
      api.extraSans,
      "apiServer.extraSans",
      (v) => isIP(v) || isSanDnsName(v),
      `an IP address or a DNS name (lower case; a wildcard as "*.example.com")`,
    ),
  );
  if (api.bindPort !== undefined && !isPort(api.bindPort)) {
    problems.push({
      path: "apiServer.bindPort",
      message: `apiServer.bindPort must be a port number 1-65535, got ${show(api.bindPort)}`,
    });
  }
  if (api.oidc !== undefined) {
    const o = api.oidc;
    if (!isHttpUrl(o?.issuerUrl, true)) {
      problems.push({
        path: "apiServer.oidc.issuerUrl",
        message: `apiServer.oidc.issuerUrl must be an https URL (kube-apiserver accepts no other), got ${show(o?.issuerUrl)}`,
      });
    }
    for (const key of [
      "clientId",
      "usernameClaim",
      "usernamePrefix",
      "groupsClaim",
      "groupsPrefix",
    ] as const) {
      const v = o?.[key];
      if ((key === "clientId" || v !== undefined) && !isToken(v)) {
        problems.push({
          path: `apiServer.oidc.${key}`,
          message: `apiServer.oidc.${key} must be a non-empty string without spaces, quotes or backslashes, got ${show(v)}`,
        });
      }
    }
  }
  const audit = api.audit ?? {};
  if (audit.enabled !== undefined && typeof audit.enabled !== "boolean") {
    problems.push({
      path: "apiServer.audit.enabled",
      message: `apiServer.audit.enabled must be true or false, got ${show(audit.enabled)}`,
    });
  }
  if (audit.enabled === false) {
    for (const key of ["policy", "maxAgeDays", "maxBackups", "maxSizeMb"] as const) {
      if (audit[key] !== undefined) {
        problems.push({
          path: `apiServer.audit.${key}`,
          message: `apiServer.audit.${key} only applies when the audit log is enabled, got it with apiServer.audit.enabled false`,
        });
      }
    }
  } else {
    if (
      audit.policy !== undefined &&
      (typeof audit.policy !== "string" || !/^kind: *Policy *$/m.test(audit.policy))
    ) {
      problems.push({
        path: "apiServer.audit.policy",
        message: `apiServer.audit.policy must be an audit.k8s.io/v1 Policy in YAML (with a line "kind: Policy"), got ${show(audit.policy)}`,
      });
    }
    for (const key of ["maxAgeDays", "maxBackups", "maxSizeMb"] as const) {
      if (audit[key] !== undefined && !isWholeInRange(audit[key], 1)) {
        problems.push({
          path: `apiServer.audit.${key}`,
          message: `apiServer.audit.${key} must be a whole number, at least 1, got ${show(audit[key])}`,
        });
      }
    }
  }
  const enc = api.secretsEncryption ?? {};
  if (enc.enabled !== undefined && typeof enc.enabled !== "boolean") {
    problems.push({
      path: "apiServer.secretsEncryption.enabled",
      message: `apiServer.secretsEncryption.enabled must be true or false, got ${show(enc.enabled)}`,
    });
  }
  const providers = Object.values(SecretsEncryptionProvider) as string[];
  if (enc.provider !== undefined) {
    if (enc.enabled === false) {
      problems.push({
        path: "apiServer.secretsEncryption.provider",
        message: `apiServer.secretsEncryption.provider only applies when encryption is enabled, got it with apiServer.secretsEncryption.enabled false`,
      });
    } else if (!providers.includes(enc.provider)) {
      problems.push({
        path: "apiServer.secretsEncryption.provider",
        message: `apiServer.secretsEncryption.provider must be one of ${providers.join(", ")}, got ${show(enc.provider)}`,
      });
    }
  }
  for (const [flag, value] of Object.entries(api.extraArgs ?? {})) {
    const path = `apiServer.extraArgs[${JSON.stringify(flag)}]`;
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(flag)) {
      problems.push({
        path,
        message: `apiServer.extraArgs keys must be kube-apiserver flag names without dashes in front, such as "default-not-ready-toleration-seconds", got ${show(flag)}`,
      });
    } else if (MANAGED_API_SERVER_FLAGS.includes(flag)) {
      problems.push({
        path,
        message: `apiServer.extraArgs may not set ${show(flag)}: hakube manages it (see ApiServerArgs)`,
      });
    } else if (flag === "anonymous-auth" && value === "false") {
      problems.push({
        path,
        message: `apiServer.extraArgs may not set "anonymous-auth" to "false": the readiness gate and load balancers' health checks read /readyz without credentials`,
      });
    }
    if (typeof value !== "string" || /[\n\r]/.test(value)) {
      problems.push({ path, message: `${path} must be a string without line breaks, got ${show(value)}` });
    }
  }
  return problems;
}

const BINARIES = ["kubeadm", "kubelet", "kubectl"];

/** The release install's `sha256`: required, the sha256 of each binary and nothing else. */
function binarySha256Problems(sums: unknown, path: string): Problem[] {
  if (sums === undefined || sums === null || typeof sums !== "object" || Array.isArray(sums)) {
    return [
      {
        path,
        message: `${path} is required with install.method "release": { kubeadm, kubelet, kubectl }, the sha256 of each binary of kubernetesVersion (published beside it as <binary>.sha256), got ${show(sums)}`,
      },
    ];
  }
  const given = sums as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const bin of BINARIES) {
    if (!isSha256(given[bin])) {
      problems.push({
        path: `${path}.${bin}`,
        message: `${path}.${bin} must be the sha256 of ${bin} as 64 lower-case hex digits, got ${show(given[bin])}`,
      });
    }
  }
  for (const key of Object.keys(given).filter((k) => !BINARIES.includes(k))) {
    problems.push({
      path: `${path}.${key}`,
      message: `${path} has no field ${show(key)}: it takes kubeadm, kubelet and kubectl`,
    });
  }
  return problems;
}

/** What the Kubernetes install accepts: package (the default), release, preinstalled; their own fields. */
const INSTALL_RULES: InstallRules = {
  methods: [InstallMethod.Package, InstallMethod.Release, InstallMethod.Preinstalled],
  default: InstallMethod.Package,
  fields: [
    ["repositoryUrl", InstallMethod.Package, httpUrlProblems],
    ["baseUrl", InstallMethod.Release, httpUrlProblems],
    ["sha256", InstallMethod.Release, binarySha256Problems],
  ],
};

function keyAlgorithmProblems(args: HaControlPlaneArgs): Problem[] {
  const problems: Problem[] = [];
  const supported = Object.keys(KUBEADM_ENCRYPTION_ALGORITHMS);
  const v = parseKubernetesVersion(args.kubernetesVersion);
  for (const key of ["keyAlgorithm", "serviceAccountKeyAlgorithm"] as const) {
    const algo = args[key];
    if (algo === undefined) continue;
    if (!supported.includes(algo)) {
      problems.push({
        path: key,
        message: `${key} must be one of ${supported.join(", ")} (kubeadm and kube-apiserver take RSA or ECDSA keys), got ${show(algo)}`,
      });
    } else if (
      key === "keyAlgorithm" &&
      v &&
      v.major === 1 &&
      v.minor < ENCRYPTION_ALGORITHM_MIN_MINOR &&
      algo !== KeyAlgorithm.Rsa2048 &&
      algo !== KeyAlgorithm.EcdsaP256
    ) {
      problems.push({
        path: key,
        message: `${key} ${algo} needs kubernetesVersion 1.${ENCRYPTION_ALGORITHM_MIN_MINOR} or later (kubeadm's encryptionAlgorithm); before, kubeadm makes RSA-2048 or, with its PublicKeysECDSA feature gate, ECDSA P-256 keys, got ${show(args.kubernetesVersion)}`,
      });
    } else if (algo === KeyAlgorithm.EcdsaP384 && v && v.major === 1 && v.minor < ECDSA_P384_MIN_MINOR) {
      problems.push({
        path: key,
        message: `${key} ${algo} needs kubernetesVersion 1.${ECDSA_P384_MIN_MINOR} or later (kubeadm's encryptionAlgorithm "ECDSA-P384"), got ${show(args.kubernetesVersion)}`,
      });
    }
  }
  return problems;
}

/** The cluster CA given in `ca`: a CA key pair whose algorithm kubeadm can use (RSA or ECDSA). */
function caProblems(args: HaControlPlaneArgs): Problem[] {
  const problems = caKeyPairProblems(args.ca, "ca");
  if (problems.length === 0 && args.ca?.keyAlgorithm === KeyAlgorithm.Ed25519) {
    problems.push({
      path: "ca.keyAlgorithm",
      message: `ca.keyAlgorithm must be RSA or ECDSA: kubeadm and kube-apiserver cannot use an Ed25519 CA; make the CertificateAuthority with keyAlgorithm ${KeyAlgorithm.EcdsaP256} or ${KeyAlgorithm.Rsa2048}, got ${show(args.ca.keyAlgorithm)}`,
    });
  }
  return problems;
}

/**
 * The cluster CA is also the external etcd's CA (the same certificate, known now or once resolved): etcd
 * then trusts every certificate the cluster CA signs, a kubelet's or a user's, as an etcd client.
 */
function sharedCaWarnings(args: HaControlPlaneArgs): Problem[] {
  const ca = args.ca?.certPem;
  const etcdCa = args.etcd?.caCertPem;
  const same =
    ca !== undefined &&
    (ca === etcdCa || (typeof ca === "string" && typeof etcdCa === "string" && ca.trim() === etcdCa.trim()));
  if (!same || (args.etcd?.topology ?? EtcdTopology.Stacked) !== EtcdTopology.External) return [];
  return [
    {
      path: "ca",
      message:
        "ca is also the etcd CA (etcd.caCertPem): etcd trusts every certificate the cluster CA signs (kubelets', users'), so each of them can read and write all of etcd; give the EtcdCluster a CA of its own",
    },
  ];
}

function miscProblems(args: HaControlPlaneArgs): Problem[] {
  const problems: Problem[] = [];
  if (args.clusterName !== undefined && !isDnsName(args.clusterName)) {
    problems.push({
      path: "clusterName",
      message: `clusterName must be a DNS name (lower-case letters, digits, '-' and '.'), got ${show(args.clusterName)}`,
    });
  }
  problems.push(
    ...stringListProblems(
      args.ignorePreflightErrors,
      "ignorePreflightErrors",
      (v) => typeof v === "string" && /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(v),
      `a kubeadm preflight check name such as "NumCPU", or "all"`,
    ),
  );
  if (
    args.imageRepository !== undefined &&
    (typeof args.imageRepository !== "string" ||
      !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*\/?$/.test(
        args.imageRepository,
      ))
  ) {
    problems.push({
      path: "imageRepository",
      message: `imageRepository must be a registry host with an optional port and path, such as "registry.example.com:5000/k8s" (no scheme), got ${show(args.imageRepository)}`,
    });
  }
  if (args.nodesInContainers !== undefined && typeof args.nodesInContainers !== "boolean") {
    problems.push({
      path: "nodesInContainers",
      message: `nodesInContainers must be true or false, got ${show(args.nodesInContainers)}`,
    });
  }
  const profile = args.leaderElection?.profile;
  const profiles = Object.values(LeaderElectionProfile) as string[];
  if (profile !== undefined && !profiles.includes(profile)) {
    problems.push({
      path: "leaderElection.profile",
      message: `leaderElection.profile must be one of ${profiles.join(", ")}, got ${show(profile)}`,
    });
  }
  if (args.readyTimeoutSeconds !== undefined && !isWholeInRange(args.readyTimeoutSeconds, 30)) {
    problems.push({
      path: "readyTimeoutSeconds",
      message: `readyTimeoutSeconds must be a whole number of seconds, at least 30, got ${show(args.readyTimeoutSeconds)}`,
    });
  }
  return problems;
}

function cniProblems(args: HaControlPlaneArgs): Problem[] {
  if (args.cni === undefined) return [];
  const problems: Problem[] = [];
  const cni = args.cni;
  const kinds = Object.values(CniKind) as string[];
  if (!kinds.includes(cni?.kind)) {
    problems.push({
      path: "cni.kind",
      message: `cni.kind must be one of ${kinds.join(", ")}, got ${show(cni?.kind)}`,
    });
  }
  if (typeof cni?.version !== "string" || !/^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/.test(cni.version)) {
    problems.push({
      path: "cni.version",
      message: `cni.version must pin a chart version such as "1.16.5" (no ranges), got ${show(cni?.version)}`,
    });
  }
  if (cni?.repository !== undefined && !isHttpUrl(cni.repository)) {
    problems.push({
      path: "cni.repository",
      message: `cni.repository must be an http(s) URL without spaces, quotes or backslashes, got ${show(cni.repository)}`,
    });
  }
  if (
    cni?.values !== undefined &&
    (typeof cni.values !== "object" || cni.values === null || Array.isArray(cni.values))
  ) {
    problems.push({
      path: "cni.values",
      message: `cni.values must be an object of chart values, got ${show(cni.values)}`,
    });
  }
  return problems;
}
