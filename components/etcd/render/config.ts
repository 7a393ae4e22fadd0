/**
 * Pure renderers for the files every etcd member receives: the environment file etcd reads its flags
 * from, the systemd unit, and the roster the host scripts use. No Pulumi import.
 */
import { CLUSTER_ENV_FILE, ENV_FILE, PKI_DIR } from "../defaults";
import { EtcdMemberSettings } from "../types";
import { memberUrls } from "../settings";

export { memberUrls } from "../settings";
export type { MemberUrls } from "../settings";

/** The PKI files on a member, all owned by etcd with mode 0600. */
export const PKI_FILES = {
  ca: `${PKI_DIR}/ca.crt`,
  serverCert: `${PKI_DIR}/server.crt`,
  serverKey: `${PKI_DIR}/server.key`,
  peerCert: `${PKI_DIR}/peer.crt`,
  peerKey: `${PKI_DIR}/peer.key`,
} as const;

/** etcd's environment variable for a flag: "initial-cluster" -> "ETCD_INITIAL_CLUSTER". */
export function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * The flags of one member, as `ETCD_*` variables for systemd's EnvironmentFile. Client and peer traffic
 * is https with client certificates required on both ports. The initial cluster is not here: the member
 * script writes it (to cluster.env) when the member first starts, so adding members later leaves every
 * existing member's configuration unchanged.
 */
export function buildEnv(s: EtcdMemberSettings): Array<[string, string]> {
  const urls = memberUrls(s.address, s.clientPort, s.peerPort);
  const loopback = memberUrls("127.0.0.1", s.clientPort, s.peerPort);
  const managed: Array<[string, string]> = [
    ["name", s.name],
    ["data-dir", s.dataDir],
    ["listen-peer-urls", urls.peer],
    ["listen-client-urls", `${urls.client},${loopback.client}`],
    ["advertise-client-urls", urls.client],
    ["initial-advertise-peer-urls", urls.peer],
    ["initial-cluster-token", s.initialClusterToken],
    ["listen-metrics-urls", `http://127.0.0.1:${s.metricsPort}`],
    ["heartbeat-interval", String(s.heartbeatIntervalMs)],
    ["election-timeout", String(s.electionTimeoutMs)],
    ["cert-file", PKI_FILES.serverCert],
    ["key-file", PKI_FILES.serverKey],
    ["trusted-ca-file", PKI_FILES.ca],
    ["client-cert-auth", "true"],
    ["peer-cert-file", PKI_FILES.peerCert],
    ["peer-key-file", PKI_FILES.peerKey],
    ["peer-trusted-ca-file", PKI_FILES.ca],
    ["peer-client-cert-auth", "true"],
    ["strict-reconfig-check", "true"],
  ];
  const extra = Object.keys(s.extraFlags)
    .sort()
    .map((k): [string, string] => [k, s.extraFlags[k]]);
  return [...managed, ...extra].map(([flag, value]) => [envName(flag), value]);
}

/** Serialize {@link buildEnv}: a header, then one `NAME=value` line per flag, trailing newline. */
export function renderEnvFile(s: EtcdMemberSettings): string {
  const header = [
    `# Managed by hakube (EtcdCluster ${s.cluster}, member ${s.name}); changes here are overwritten.`,
    `# etcd from install.method ${s.installMethod}. The initial cluster is in ${CLUSTER_ENV_FILE}, written on first start.`,
  ];
  return [...header, ...buildEnv(s).map(([k, v]) => `${k}=${v}`)].join("\n") + "\n";
}

/** The systemd unit. Type=notify: etcd tells systemd when it has joined the cluster and serves clients. */
export function renderUnit(s: Pick<EtcdMemberSettings, "cluster" | "binDir">): string {
  return `# Managed by hakube (EtcdCluster ${s.cluster}).
[Unit]
Description=etcd key-value store (hakube)
Documentation=https://etcd.io/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
User=etcd
Group=etcd
EnvironmentFile=${ENV_FILE}
EnvironmentFile=-${CLUSTER_ENV_FILE}
ExecStart=${s.binDir}/etcd
Restart=on-failure
RestartSec=2s
TimeoutStartSec=300
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

/** A member as the roster lists it. */
export interface RosterEntry {
  name: string;
  address: string;
}

/** The roster: `name peerURL clientURL` per member, in member order, trailing newline. */
export function renderRoster(members: readonly RosterEntry[], clientPort: number, peerPort: number): string {
  return members
    .map((m) => {
      const u = memberUrls(m.address, clientPort, peerPort);
      return `${m.name} ${u.peer} ${u.client}\n`;
    })
    .join("");
}
