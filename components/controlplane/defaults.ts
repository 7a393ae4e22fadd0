/** HaControlPlane defaults, each with where it comes from, and the paths on the hosts. Pure: no Pulumi import. */
import { KeyAlgorithm } from "../pki/profiles";
import { CniKind, LeaderElectionProfile, LeaderElectionTimings, SecretsEncryptionProvider } from "./types";

/** kubeadm accepts encryptionAlgorithm "ECDSA-P384" from 1.34 on (v1beta4 changelog). */
export const ECDSA_P384_MIN_MINOR = 34;

/** flannel's and kubeadm's documentation's example pod network. */
export const DEFAULT_POD_SUBNET = "10.244.0.0/16";
/** kubeadm's default (v1beta4 Networking.serviceSubnet). */
export const DEFAULT_SERVICE_SUBNET = "10.96.0.0/12";
/** kubeadm's default (v1beta4 Networking.dnsDomain). */
export const DEFAULT_DNS_DOMAIN = "cluster.local";
/** kube-apiserver's secure port as kubeadm sets it (v1beta4 APIEndpoint.bindPort). */
export const DEFAULT_API_SERVER_PORT = 6443;
/** kubeadm's default cluster name. */
export const DEFAULT_CLUSTER_NAME = "kubernetes";
/**
 * kube-controller-manager's default node-cidr-mask-size, and kubeadm's limit on the bits between it and
 * the pod subnet (PodSubnetNodeMaskMaxDiff): the pod subnet's prefix must lie in [node mask - 16, node mask].
 */
export const NODE_CIDR_MASK = { 4: 24, 6: 64 } as const;
export const POD_SUBNET_NODE_MASK_MAX_DIFF = 16;
/** kubeadm and kube-apiserver: a service subnet has at most 20 host bits (MaximumBitsForServiceSubnet). */
export const MAX_SERVICE_SUBNET_HOST_BITS = 20;
/** kubeadm: at least 10 service addresses (MinimumAddressesInServiceSubnet), so /28 or /124 at most. */
export const MIN_SERVICE_SUBNET_HOST_BITS = 4;

/** The Kubernetes project's package repository; `/v1.31/deb/` (or `/rpm/`) is appended. */
export const DEFAULT_PACKAGE_REPOSITORY = "https://pkgs.k8s.io/core:/stable:";
/** The Kubernetes project's release server: `<root>/v1.31.4/bin/linux/amd64/kubeadm`. */
export const DEFAULT_RELEASE_BASE_URL = "https://dl.k8s.io/release";
/** Where a release install puts kubelet, kubeadm and kubectl (the Kubernetes docs' "without a package manager" path). */
export const RELEASE_BIN_DIR = "/usr/local/bin";
/** The Kubernetes project's image registry (kubeadm's default since 1.25; it serves every older image too). */
export const DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io";
/** kubeadm encryptionAlgorithm arrived in 1.31 (v1beta4); before, the feature gate PublicKeysECDSA made kubeadm's keys ECDSA P-256. */
export const ENCRYPTION_ALGORITHM_MIN_MINOR = 31;
/**
 * containerd's CRI socket as a URL. Every supported kubeadm takes this form (1.20 passes it to the kubelet
 * with --container-runtime=remote; from 1.24 kubeadm warns about a socket path without "unix://").
 */
export const CRI_SOCKET = "unix:///var/run/containerd/containerd.sock";

/** The CA keys hakube makes (and kubeadm's leaf certificates): ECDSA P-256, as the rest of hakube. */
export const DEFAULT_KEY_ALGORITHM = KeyAlgorithm.EcdsaP256;
/** kubeadm's default for the service-account key; RS256 tokens are what outside verifiers accept most widely. */
export const DEFAULT_SERVICE_ACCOUNT_KEY_ALGORITHM = KeyAlgorithm.Rsa2048;
/** kubeadm's encryptionAlgorithm for each key algorithm it supports (Ed25519 is not among them). */
export const KUBEADM_ENCRYPTION_ALGORITHMS: Partial<Record<KeyAlgorithm, string>> = {
  [KeyAlgorithm.EcdsaP256]: "ECDSA-P256",
  [KeyAlgorithm.EcdsaP384]: "ECDSA-P384",
  [KeyAlgorithm.Rsa2048]: "RSA-2048",
  [KeyAlgorithm.Rsa3072]: "RSA-3072",
  [KeyAlgorithm.Rsa4096]: "RSA-4096",
};

/** The bootstrap token's life: kubeadm's DefaultTokenDuration (24 h). The token step renews it when nodes are added. */
export const BOOTSTRAP_TOKEN_TTL_SECONDS = 24 * 60 * 60;
/** The group kubeadm gives its join tokens; kubeadm's RBAC rules for joining nodes are bound to it. */
export const BOOTSTRAP_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token";

/**
 * The kubeconfig's client certificate: kubeadm's admin.conf identity. Since 1.29 kubeadm binds the group
 * kubeadm:cluster-admins to cluster-admin during init (revocable by deleting that binding); system:masters,
 * which bypasses RBAC and cannot be revoked, is kept for kubeadm's break-glass super-admin.conf. Before
 * 1.29 kubeadm makes no such binding and admin.conf is in system:masters, so the kubeconfig is too
 * (versions.ts picks the group).
 */
export const ADMIN_COMMON_NAME = "kubernetes-admin";
export const ADMIN_GROUP = "kubeadm:cluster-admins";
export const LEGACY_ADMIN_GROUP = "system:masters";
/** kubeadm binds ADMIN_GROUP to cluster-admin from 1.29 (KEP-4214, "Separate super-user kubeconfig for kubeadm"; kubernetes/kubeadm#2414). */
export const ADMIN_GROUP_MIN_MINOR = 29;

/** Audit log rotation: kubespray's hardening guide (30 days, 10 files, 100 MB). */
export const DEFAULT_AUDIT_MAX_AGE_DAYS = 30;
export const DEFAULT_AUDIT_MAX_BACKUPS = 10;
export const DEFAULT_AUDIT_MAX_SIZE_MB = 100;
/** Kubernetes' documentation ("Encrypting Confidential Data at Rest") ranks secretbox strongest of the local providers. */
export const DEFAULT_SECRETS_ENCRYPTION_PROVIDER = SecretsEncryptionProvider.Secretbox;
/** secretbox and aescbc both take a 32-byte key. */
export const SECRETS_ENCRYPTION_KEY_BYTES = 32;
/** The key's name in the EncryptionConfiguration; a rotation would add "key2" in front of it. */
export const SECRETS_ENCRYPTION_KEY_NAME = "key1";

/**
 * The readiness gate's patience: kubeadm joins take 1-3 minutes each when images are pulled; the gate
 * runs after all of them, so 10 minutes covers slow image pulls on the last workers.
 */
export const DEFAULT_READY_TIMEOUT_SECONDS = 600;

/** Each CNI's chart: repository, chart, release name, namespace. */
export const CNI_CHARTS: Record<CniKind, { repository: string; chart: string; namespace: string }> = {
  [CniKind.Cilium]: { repository: "https://helm.cilium.io/", chart: "cilium", namespace: "kube-system" },
  [CniKind.Calico]: {
    repository: "https://docs.tigera.io/calico/charts",
    chart: "tigera-operator",
    namespace: "tigera-operator",
  },
};
/** Seconds Helm waits for the CNI's resources to become ready. */
export const CNI_TIMEOUT_SECONDS = 600;

/** Paths on the hosts. kubeadm's own are fixed by kubeadm (certificatesDir, kubeconfig files). */
export const KUBERNETES_DIR = "/etc/kubernetes";
export const PKI_DIR = `${KUBERNETES_DIR}/pki`;
export const ADMIN_CONF = `${KUBERNETES_DIR}/admin.conf`;
export const KUBELET_CONF = `${KUBERNETES_DIR}/kubelet.conf`;
/** hakube's files: kubeadm's configuration (it holds the bootstrap token, so it stays out of any pod). */
export const HAKUBE_DIR = `${KUBERNETES_DIR}/hakube`;
export const KUBEADM_CONFIG_FILE = `${HAKUBE_DIR}/kubeadm.yaml`;
/** The API server's files; this directory alone is mounted (read-only) into kube-apiserver. */
export const API_SERVER_CONFIG_DIR = `${HAKUBE_DIR}/apiserver`;
export const AUDIT_POLICY_FILE = `${API_SERVER_CONFIG_DIR}/audit-policy.yaml`;
export const ENCRYPTION_CONFIG_FILE = `${API_SERVER_CONFIG_DIR}/encryption-config.yaml`;
export const AUDIT_LOG_DIR = "/var/log/kubernetes/audit";
export const AUDIT_LOG_FILE = "/var/log/kubernetes/audit/audit.log";
/** kubeadm's full output (it can be long); the steps print only a summary. Mode 0600. */
export const KUBEADM_LOG_DIR = "/var/log/hakube";
/** Files the prepare step writes. */
export const MODULES_FILE = "/etc/modules-load.d/hakube-kubernetes.conf";
export const SYSCTL_FILE = "/etc/sysctl.d/90-hakube-kubernetes.conf";
export const CONTAINERD_CONFIG = "/etc/containerd/config.toml";
/** Where containerd and the pod networks (Cilium, Calico) find and put CNI plugins and configurations. */
export const CNI_BIN_DIR = "/opt/cni/bin";
export const CNI_CONF_DIR = "/etc/cni/net.d";
/** Where Debian's and Ubuntu's containernetworking-plugins package puts the plugins (linked into CNI_BIN_DIR). */
export const DEBIAN_CNI_PLUGINS_DIR = "/usr/lib/cni";
/** The release install's kubelet unit and kubeadm's drop-in (the kubelet and kubeadm packages ship them). */
export const KUBELET_UNIT = "/etc/systemd/system/kubelet.service";
export const KUBELET_DROPIN = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf";
/**
 * What the release install takes from the OS packages (apt): the container runtime, the CNI plugins, and
 * the tools kubeadm's preflight requires (conntrack, iptables) or checks for (ebtables, ethtool, socat), as
 * the kubelet and kubeadm packages depend on them.
 */
export const RELEASE_OS_PACKAGES = [
  "containerd",
  "runc",
  "containernetworking-plugins",
  "conntrack",
  "iptables",
  "ebtables",
  "ethtool",
  "socat",
  "curl",
  "ca-certificates",
] as const;
export const APT_KEYRING = "/etc/apt/keyrings/hakube-kubernetes.gpg";
export const APT_SOURCE = "/etc/apt/sources.list.d/hakube-kubernetes.list";
export const YUM_REPO = "/etc/yum.repos.d/hakube-kubernetes.repo";

/**
 * Leader election per profile; undefined writes nothing (the components' defaults: lease 15 s, renew
 * deadline 10 s, retry 2 s, in k8s.io/component-base's LeaderElectionConfiguration). Fast halves the lease
 * and keeps a renew deadline of 6 s, several times a loaded etcd write, and retries every second.
 */
export const LEADER_ELECTION_PROFILES: Record<LeaderElectionProfile, LeaderElectionTimings | undefined> = {
  [LeaderElectionProfile.Default]: undefined,
  [LeaderElectionProfile.Fast]: { leaseDurationSeconds: 8, renewDeadlineSeconds: 6, retryPeriodSeconds: 1 },
};
