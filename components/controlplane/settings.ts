/**
 * Resolve HaControlPlaneArgs into plain settings (defaults applied). Pure: no Pulumi import.
 * Call only after validateHaControlPlaneArgs found no errors.
 */
import {
  ADMIN_GROUP,
  ADMIN_GROUP_MIN_MINOR,
  DEFAULT_API_SERVER_PORT,
  DEFAULT_AUDIT_MAX_AGE_DAYS,
  DEFAULT_AUDIT_MAX_BACKUPS,
  DEFAULT_AUDIT_MAX_SIZE_MB,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_DNS_DOMAIN,
  DEFAULT_KEY_ALGORITHM,
  DEFAULT_IMAGE_REPOSITORY,
  DEFAULT_PACKAGE_REPOSITORY,
  DEFAULT_RELEASE_BASE_URL,
  DEFAULT_POD_SUBNET,
  DEFAULT_READY_TIMEOUT_SECONDS,
  DEFAULT_SECRETS_ENCRYPTION_PROVIDER,
  DEFAULT_SERVICE_SUBNET,
  KUBEADM_ENCRYPTION_ALGORITHMS,
  LEADER_ELECTION_PROFILES,
  LEGACY_ADMIN_GROUP,
} from "./defaults";
import { joinHostPort, parseHostPort } from "../net";
import { InstallMethod } from "../install";
import { ControlPlaneSettings, EtcdTopology, KnownHaControlPlaneArgs, LeaderElectionProfile } from "./types";
import { minorProfile, parseKubernetesVersion } from "./versions";
import { show } from "../show";

/**
 * The API server certificate's extra SANs, in this order without duplicates: the endpoint's host, every
 * master's address and name, then `extraSans`. (kubeadm adds its own: kubernetes.default..., the first
 * Service address, the node's name and advertise address.)
 */
export function apiServerCertSans(
  endpointHost: string,
  masters: ReadonlyArray<{ name: string; address: string }>,
  extraSans: readonly string[],
): string[] {
  return [...new Set([endpointHost, ...masters.flatMap((m) => [m.address, m.name]), ...extraSans])];
}

/** The group of the kubeconfig's certificate: the one kubeadm of this minor binds to cluster-admin. */
export function adminGroup(minor: number): string {
  return minor >= ADMIN_GROUP_MIN_MINOR ? ADMIN_GROUP : LEGACY_ADMIN_GROUP;
}

/** @param cluster the component name */
export function resolveHaControlPlane(cluster: string, args: KnownHaControlPlaneArgs): ControlPlaneSettings {
  const v = parseKubernetesVersion(args.kubernetesVersion);
  if (!v) throw new Error(`unvalidated kubernetesVersion ${show(args.kubernetesVersion)}`);
  const api = args.apiServer ?? {};
  const bindPort = api.bindPort ?? DEFAULT_API_SERVER_PORT;
  const masters = args.masters.map((m) => ({ name: m.name, address: m.address }));
  const ep =
    args.endpoint !== undefined ? parseHostPort(args.endpoint) : { host: masters[0].address, port: bindPort };
  if (!ep) throw new Error(`unvalidated endpoint ${show(args.endpoint)}`);
  const audit = api.audit ?? {};
  const enc = api.secretsEncryption ?? {};
  const extraArgs = api.extraArgs ?? {};
  const profile = minorProfile(v.minor);
  if (v.major !== 1 || !profile)
    throw new Error(`unvalidated kubernetesVersion ${show(args.kubernetesVersion)}`);
  const imageRepository = (args.imageRepository ?? DEFAULT_IMAGE_REPOSITORY).replace(/\/+$/, "");
  const encryptionAlgorithm = KUBEADM_ENCRYPTION_ALGORITHMS[args.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM];
  if (!encryptionAlgorithm) throw new Error(`unvalidated keyAlgorithm ${show(args.keyAlgorithm)}`);
  return {
    cluster,
    clusterName: args.clusterName ?? DEFAULT_CLUSTER_NAME,
    kubernetesVersion: `${v.major}.${v.minor}.${v.patch}`,
    kubernetesMinor: `${v.major}.${v.minor}`,
    endpoint: { host: ep.host, port: ep.port, hostPort: joinHostPort(ep.host, ep.port) },
    bindPort,
    podSubnet: args.podSubnet ?? DEFAULT_POD_SUBNET,
    serviceSubnet: args.serviceSubnet ?? DEFAULT_SERVICE_SUBNET,
    dnsDomain: DEFAULT_DNS_DOMAIN,
    etcdTopology: args.etcd?.topology ?? EtcdTopology.Stacked,
    encryptionAlgorithm,
    certSans: apiServerCertSans(ep.host, masters, api.extraSans ?? []),
    audit:
      audit.enabled === false
        ? undefined
        : {
            policy: audit.policy,
            maxAgeDays: audit.maxAgeDays ?? DEFAULT_AUDIT_MAX_AGE_DAYS,
            maxBackups: audit.maxBackups ?? DEFAULT_AUDIT_MAX_BACKUPS,
            maxSizeMb: audit.maxSizeMb ?? DEFAULT_AUDIT_MAX_SIZE_MB,
          },
    secretsEncryption:
      enc.enabled === false ? undefined : { provider: enc.provider ?? DEFAULT_SECRETS_ENCRYPTION_PROVIDER },
    oidc: api.oidc ? { ...api.oidc } : undefined,
    apiServerExtraArgs: Object.keys(extraArgs)
      .sort()
      .map((k): [string, string] => [k, extraArgs[k]]),
    ignorePreflightErrors: [...(args.ignorePreflightErrors ?? [])],
    install: {
      method: args.install?.method ?? InstallMethod.Package,
      repositoryUrl: (args.install?.repositoryUrl ?? DEFAULT_PACKAGE_REPOSITORY).replace(/\/+$/, ""),
      releaseBaseUrl: (args.install?.baseUrl ?? DEFAULT_RELEASE_BASE_URL).replace(/\/+$/, ""),
      sha256: args.install?.sha256 ? { ...args.install.sha256 } : undefined,
    },
    kubeadmApi: profile.kubeadmApi,
    cgroupDriver: profile.cgroupDriver,
    imageRepository,
    pauseImage: `${imageRepository}/pause:${profile.pauseTag}`,
    kubeadmNeedsCrictl: profile.kubeadmNeedsCrictl,
    nodesInContainers: args.nodesInContainers ?? false,
    adminGroup: adminGroup(v.minor),
    leaderElection: LEADER_ELECTION_PROFILES[args.leaderElection?.profile ?? LeaderElectionProfile.Default],
    readyTimeoutSeconds: args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
    masters,
    workers: (args.workers ?? []).map((w) => ({ name: w.name, address: w.address })),
  };
}

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
