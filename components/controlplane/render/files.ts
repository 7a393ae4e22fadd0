/**
 * Pure renderers for the files around kubeadm: the audit policy, the encryption configuration, the admin
 * kubeconfig, the bootstrap-token Secret, and the list of files each master receives on stdin.
 * `build*` returns the object, `render*` the YAML. No Pulumi import.
 */
import { HostFile } from "../../shell";
import {
  ADMIN_COMMON_NAME,
  AUDIT_POLICY_FILE,
  BOOTSTRAP_TOKEN_GROUP,
  ENCRYPTION_CONFIG_FILE,
  KUBEADM_CONFIG_FILE,
  PKI_DIR,
  SECRETS_ENCRYPTION_KEY_NAME,
} from "../defaults";
import { EtcdTopology, SecretsEncryptionProvider } from "../types";
import { toYaml, YamlValue } from "./yaml";

type Doc = { [key: string]: YamlValue };

const resources = (group: string, ...names: string[]): Doc => ({ group, resources: names });

/**
 * hakube's default audit policy (audit.k8s.io/v1). First match wins:
 * 1. nothing for health probes, the version endpoint, events, and the control plane's own chatter
 *    (leases, kube-proxy watches, kubelets reading their Node);
 * 2. metadata only (who, what, when; never the body) for Secrets, ConfigMaps, tokens and token reviews;
 * 3. metadata for every read;
 * 4. the request body for every other write.
 * The RequestReceived stage is omitted: ResponseComplete carries the same and more.
 */
export function buildDefaultAuditPolicy(): Doc {
  return {
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived"],
    rules: [
      { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"] },
      { level: "None", resources: [resources("", "events"), resources("events.k8s.io", "events")] },
      {
        level: "None",
        users: ["system:kube-proxy"],
        verbs: ["watch"],
        resources: [
          resources("", "endpoints", "services", "services/status"),
          resources("discovery.k8s.io", "endpointslices"),
        ],
      },
      {
        level: "None",
        userGroups: ["system:nodes"],
        verbs: ["get"],
        resources: [resources("", "nodes", "nodes/status")],
      },
      {
        level: "None",
        users: ["system:kube-controller-manager", "system:kube-scheduler"],
        verbs: ["get", "update"],
        namespaces: ["kube-system"],
        resources: [resources("coordination.k8s.io", "leases")],
      },
      {
        level: "Metadata",
        resources: [
          resources("", "secrets", "configmaps", "serviceaccounts/token"),
          resources("authentication.k8s.io", "tokenreviews"),
        ],
      },
      { level: "Metadata", verbs: ["get", "list", "watch"] },
      { level: "Request" },
    ],
  };
}

export function renderDefaultAuditPolicy(): string {
  return `# hakube's default audit policy; see buildDefaultAuditPolicy() in components/controlplane/render/files.ts.\n${toYaml(buildDefaultAuditPolicy())}`;
}

/** The audit policy the API server gets: the custom one, or hakube's default. */
export function renderAuditPolicy(audit: { policy?: string }): string {
  return audit.policy ?? renderDefaultAuditPolicy();
}

/**
 * Encryption of Secrets at rest: the chosen provider with one key writes and reads; `identity` after it
 * reads anything stored before encryption was on (kube-apiserver tries the providers in order).
 */
export function buildEncryptionConfiguration(provider: SecretsEncryptionProvider, keyBase64: string): Doc {
  if (Buffer.from(keyBase64, "base64").length !== 32 || !/^[A-Za-z0-9+/]+=*$/.test(keyBase64)) {
    throw new Error("the encryption key must be 32 bytes in base64");
  }
  return {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "EncryptionConfiguration",
    resources: [
      {
        resources: ["secrets"],
        providers: [
          { [provider]: { keys: [{ name: SECRETS_ENCRYPTION_KEY_NAME, secret: keyBase64 }] } },
          { identity: {} },
        ],
      },
    ],
  };
}

export function renderEncryptionConfiguration(
  provider: SecretsEncryptionProvider,
  keyBase64: string,
): string {
  return toYaml(buildEncryptionConfiguration(provider, keyBase64));
}

/** What a kubeconfig for one user of one cluster holds. */
export interface KubeconfigParams {
  clusterName: string;
  /** "https://host:port" */
  server: string;
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** @default "kubernetes-admin" */
  userName?: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A kubeconfig (v1 Config) with one cluster, one user and one context, named as kubeadm names admin.conf's. */
export function buildKubeconfig(p: KubeconfigParams): Doc {
  const user = p.userName ?? ADMIN_COMMON_NAME;
  const context = `${user}@${p.clusterName}`;
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: p.clusterName, cluster: { "certificate-authority-data": b64(p.caCertPem), server: p.server } },
    ],
    contexts: [{ name: context, context: { cluster: p.clusterName, user } }],
    "current-context": context,
    preferences: {},
    users: [
      {
        name: user,
        user: { "client-certificate-data": b64(p.clientCertPem), "client-key-data": b64(p.clientKeyPem) },
      },
    ],
  };
}

export function renderKubeconfig(p: KubeconfigParams): string {
  return toYaml(buildKubeconfig(p));
}

/**
 * A bootstrap token "<id>.<secret>" split in two; throws (without echoing it) unless it has exactly two
 * non-empty parts without spaces. The format kubeadm requires, [a-z0-9]{6}.[a-z0-9]{16}, comes from how the
 * component makes the token (@pulumi/random, lower case and digits, lengths 6 and 16).
 */
export function splitBootstrapToken(token: string): { id: string; secret: string } {
  const m = /^([^.\s]+)\.([^.\s]+)$/.exec(token);
  if (!m) throw new Error("a bootstrap token must look like <id>.<secret>, [a-z0-9]{6}.[a-z0-9]{16}");
  return { id: m[1], secret: m[2] };
}

/** Where the token script puts the expiry time it computes on the host (base64, as every `data` value). */
export const TOKEN_EXPIRATION_PLACEHOLDER = "HAKUBE_TOKEN_EXPIRATION";

/**
 * The Secret that is a bootstrap token, as kubeadm creates it (kube-system/bootstrap-token-<id>): usable
 * for joining (authentication) and for signing the cluster-info ConfigMap that discovery checks. Values are
 * in `data` (base64), not `stringData`, which server-side apply handles badly; the expiration is a
 * placeholder the token script fills in on the host.
 */
export function buildBootstrapTokenSecret(token: string, description: string): Doc {
  const { id, secret } = splitBootstrapToken(token);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `bootstrap-token-${id}`, namespace: "kube-system" },
    type: "bootstrap.kubernetes.io/token",
    data: {
      description: b64(description),
      "token-id": b64(id),
      "token-secret": b64(secret),
      expiration: TOKEN_EXPIRATION_PLACEHOLDER,
      "usage-bootstrap-authentication": b64("true"),
      "usage-bootstrap-signing": b64("true"),
      "auth-extra-groups": b64(BOOTSTRAP_TOKEN_GROUP),
    },
  };
}

export function renderBootstrapTokenSecret(token: string, description: string): string {
  return toYaml(buildBootstrapTokenSecret(token, description));
}

/** The PKI files on a master, where kubeadm looks for them. */
export const PKI_FILES = {
  caCert: `${PKI_DIR}/ca.crt`,
  caKey: `${PKI_DIR}/ca.key`,
  frontProxyCaCert: `${PKI_DIR}/front-proxy-ca.crt`,
  frontProxyCaKey: `${PKI_DIR}/front-proxy-ca.key`,
  saKey: `${PKI_DIR}/sa.key`,
  saPub: `${PKI_DIR}/sa.pub`,
  etcdCaCert: `${PKI_DIR}/etcd/ca.crt`,
  etcdCaKey: `${PKI_DIR}/etcd/ca.key`,
  apiServerEtcdClientCert: `${PKI_DIR}/apiserver-etcd-client.crt`,
  apiServerEtcdClientKey: `${PKI_DIR}/apiserver-etcd-client.key`,
} as const;

/** Everything a master receives on stdin, as PEM and YAML text. */
export interface MasterFileContents {
  caCert: string;
  caKey: string;
  frontProxyCaCert: string;
  frontProxyCaKey: string;
  saKey: string;
  saPub: string;
  /** Stacked: the etcd CA and its key; external: the external cluster's CA, no key. */
  etcdCaCert: string;
  etcdCaKey?: string;
  /** External only. */
  apiServerEtcdClientCert?: string;
  apiServerEtcdClientKey?: string;
  kubeadmConfig: string;
  auditPolicy?: string;
  encryptionConfig?: string;
}

/**
 * The files of one master, for its init or join step's stdin (renderFileBundle): certificates 0644, keys
 * and everything holding a secret 0600, all root's.
 */
export function masterFiles(topology: EtcdTopology, c: MasterFileContents): HostFile[] {
  const file = (path: string, content: string, mode = "0600"): HostFile => ({
    path,
    mode,
    owner: "root:root",
    content,
  });
  const files = [
    file(PKI_FILES.caCert, c.caCert, "0644"),
    file(PKI_FILES.caKey, c.caKey),
    file(PKI_FILES.frontProxyCaCert, c.frontProxyCaCert, "0644"),
    file(PKI_FILES.frontProxyCaKey, c.frontProxyCaKey),
    file(PKI_FILES.saKey, c.saKey),
    file(PKI_FILES.saPub, c.saPub, "0644"),
    file(PKI_FILES.etcdCaCert, c.etcdCaCert, "0644"),
  ];
  if (topology === EtcdTopology.Stacked) {
    if (c.etcdCaKey === undefined) throw new Error("stacked etcd needs the etcd CA key");
    files.push(file(PKI_FILES.etcdCaKey, c.etcdCaKey));
  } else {
    if (c.apiServerEtcdClientCert === undefined || c.apiServerEtcdClientKey === undefined) {
      throw new Error("external etcd needs the API server's etcd client certificate and key");
    }
    files.push(
      file(PKI_FILES.apiServerEtcdClientCert, c.apiServerEtcdClientCert, "0644"),
      file(PKI_FILES.apiServerEtcdClientKey, c.apiServerEtcdClientKey),
    );
  }
  if (c.auditPolicy !== undefined) files.push(file(AUDIT_POLICY_FILE, c.auditPolicy));
  if (c.encryptionConfig !== undefined) files.push(file(ENCRYPTION_CONFIG_FILE, c.encryptionConfig));
  files.push(file(KUBEADM_CONFIG_FILE, c.kubeadmConfig));
  return files;
}

/** A worker receives only its join configuration. */
export function workerFiles(kubeadmConfig: string): HostFile[] {
  return [{ path: KUBEADM_CONFIG_FILE, mode: "0600", owner: "root:root", content: kubeadmConfig }];
}

/**
 * Files that must not change under an initialized master: replacing a CA, the service-account key or the
 * encryption key breaks the running cluster (every certificate, every token, every Secret). The init and
 * join scripts refuse such a change; rotating them is a planned operation hakube does not automate yet.
 */
export function protectedFiles(topology: EtcdTopology): string[] {
  return [
    PKI_FILES.caCert,
    PKI_FILES.caKey,
    PKI_FILES.frontProxyCaCert,
    PKI_FILES.frontProxyCaKey,
    PKI_FILES.saKey,
    PKI_FILES.saPub,
    ...(topology === EtcdTopology.Stacked ? [PKI_FILES.etcdCaCert, PKI_FILES.etcdCaKey] : []),
    ENCRYPTION_CONFIG_FILE,
  ];
}

/**
 * Files kube-apiserver reads only when it starts: when one changes under an initialized master (an
 * external etcd client certificate reissued before it expires, a new audit policy), the script restarts
 * kube-apiserver on that master. The masters' steps run one after another, so one API server at a time.
 */
export function apiServerRestartFiles(topology: EtcdTopology): string[] {
  return [
    ...(topology === EtcdTopology.External
      ? [PKI_FILES.etcdCaCert, PKI_FILES.apiServerEtcdClientCert, PKI_FILES.apiServerEtcdClientKey]
      : []),
    AUDIT_POLICY_FILE,
  ];
}
