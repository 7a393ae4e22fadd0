/**
 * The lab stack: what `npm run lab` deploys to the lab's hosts. A thin program: hosts in, components
 * wired together, outputs out. It runs under `pulumi up` with the Pulumi CLI (stacks/index.ts reads the
 * same values from config) and, in this workplace, under the lab runner.
 */
import * as hakube from "../../index";

/** A lab host as the lab made it. */
export interface LabHostArgs {
  name: string;
  address: string;
  /** The host's SSH public key (authorized_keys line): every connection pins it. */
  hostKey: string;
}

/** Where the lab serves an etcd release tarball to its hosts. */
export interface LabEtcdReleaseArgs {
  version: string;
  baseUrl: string;
  sha256: string;
}

export interface LabStackArgs {
  hosts: LabHostArgs[];
  /** The private key (OpenSSH or PEM) that root on every lab host accepts. */
  privateKey: hakube.ConnectionArgs["privateKey"];
  /** Which hosts run etcd, by name, in order. */
  etcdMembers: string[];
  etcdRelease: LabEtcdReleaseArgs;
  /** Raft timings; the component's defaults (etcd upstream's) unless given. */
  etcdHeartbeatIntervalMs?: number;
  etcdElectionTimeoutMs?: number;
}

export function labStack(args: LabStackArgs) {
  const byName = new Map(args.hosts.map((h) => [h.name, h]));
  const members = args.etcdMembers.map((name): hakube.HostArgs => {
    const h = byName.get(name);
    if (!h)
      throw new Error(
        `etcdMembers names ${JSON.stringify(name)}, which is not a lab host (${[...byName.keys()].join(", ")})`,
      );
    return {
      name: h.name,
      address: h.address,
      connection: { host: h.address, user: "root", privateKey: args.privateKey, hostKey: h.hostKey },
    };
  });
  const etcd = new hakube.EtcdCluster("etcd", {
    members,
    version: args.etcdRelease.version,
    install: {
      method: hakube.EtcdInstallMethod.Release,
      baseUrl: args.etcdRelease.baseUrl,
      sha256: args.etcdRelease.sha256,
    },
    heartbeatIntervalMs: args.etcdHeartbeatIntervalMs,
    electionTimeoutMs: args.etcdElectionTimeoutMs,
  });
  return {
    etcdEndpoints: etcd.clientEndpoints,
    etcdMembers: etcd.memberNames,
    etcdCaCertPem: etcd.caCertPem,
    etcdClientCertPem: etcd.clientCertPem,
    etcdClientKeyPem: etcd.clientKeyPem,
  };
}
