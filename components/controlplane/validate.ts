/**
 * Pure validation of HaControlPlaneArgs: every rule returns problems that name the argument and the value.
 * Runs synchronously in the HaControlPlane constructor, before any resource exists. Values that may be
 * Outputs (external etcd endpoints) are checked here when plain, and by externalEtcdEndpointProblems (validateNetwork.ts)
 * once resolved.
 */
import { describeQuorum, faultTolerance } from "../quorum";
import { caKeyPairProblems, KeyAlgorithm } from "../pki/profiles";
import {
  isPastEndOfLife,
  MAX_KNOWN_KUBERNETES_MINOR,
  MIN_KUBERNETES_MINOR,
  minorProfile,
  parseKubernetesVersion,
} from "./versions";
import {
  notAnObject,
  hostListProblems,
  isHttpUrl,
  isSha256,
  isWholeInRange,
  oneOfProblem,
  oneOfProblems,
  Problem,
  show,
  stringListProblems,
  ValidationResult,
} from "../validation";
import { checkInstall, httpUrlProblems, InstallMethod, InstallRules } from "../install";
import {
  ECDSA_P384_MIN_MINOR,
  ENCRYPTION_ALGORITHM_MIN_MINOR,
  KUBEADM_ENCRYPTION_ALGORITHMS,
} from "./defaults";
import { addressKey, isDnsName } from "../net";
import { CniKind, EtcdTopology, HaControlPlaneArgs, LeaderElectionProfile } from "./types";
import { endpointProblems, etcdProblems, subnetProblems } from "./validateNetwork";
import { apiServerProblems } from "./validateApiServer";

/** Above this, etcd's write latency grows and its documentation advises against it (as EtcdCluster). */
const MAX_RECOMMENDED_ETCD_MEMBERS = 7;

/**
 * @param today the date that decides whether `kubernetesVersion` is past its end of life (tests pin it)
 */
export function validateHaControlPlaneArgs(
  args: HaControlPlaneArgs | undefined,
  today: Date = new Date(),
): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const wrong = notAnObject(args, "masters and kubernetesVersion");
  if (wrong || !args) return wrong!; // no args is no object: wrong is set
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
      const same = (a: unknown) => (key === "address" ? addressKey(a) : a);
      const j = masters.findIndex((m) => m?.[key] !== undefined && same(m[key]) === same(w?.[key]));
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
  problems.push(
    ...oneOfProblems(args.leaderElection?.profile, LeaderElectionProfile, "leaderElection.profile"),
  );
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
  const badKind = oneOfProblem(cni?.kind, Object.values(CniKind), "cni.kind");
  if (badKind) problems.push(badKind);
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
