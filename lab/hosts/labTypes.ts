/** The lab's public types: a lab, its hosts, what it serves, and how it is created. */
import type { Log } from "./run";

export interface LabHost {
  /** "m1", "m2", ...: a DNS label, also the host's hostname. */
  name: string;
  /** IPv4 address on the lab bridge. */
  address: string;
  /** The host's SSH public key as an authorized_keys line ("ssh-ed25519 AAAA..."): pin it. */
  hostKey: string;
  /** The host's init process (PID 1 inside it) as seen from this machine, while it runs. */
  pid?: number;
  /** The systemd-nspawn process, while the host runs. */
  nspawnPid?: number;
  /** The host's root file system (its overlay, mounted on this machine). */
  rootDir: string;
  /** False after powerOff. */
  running: boolean;
  /** True after linkDown (until linkUp). */
  linkDown: boolean;
}

/** The stand-in for etcd's official release: `${baseUrl}/${version}/etcd-${version}-linux-amd64.tar.gz`. */
export interface EtcdRelease {
  version: string;
  baseUrl: string;
  sha256: string;
  /** The full tarball URL. */
  url: string;
}

export interface Lab {
  name: string;
  /** `.lab/<name>/`: state file, keys, host overlays, logs. */
  dir: string;
  bridge: string;
  subnetIndex: number;
  /** "10.77.<subnetIndex>.0/24" */
  subnet: string;
  /** The bridge address on this machine (.1); the release server listens here. */
  gateway: string;
  hosts: LabHost[];
  /** Private ed25519 key (OpenSSH format) that root@each host accepts. */
  privateKeyPath: string;
  /** Its public half, as an authorized_keys line. */
  publicKey: string;
  /** "http://<gateway>:8780/etcd" */
  releaseBaseUrl: string;
  etcdRelease: EtcdRelease;
  /** What HaControlPlane needs to install Kubernetes in this lab, once createLab was asked for it. */
  kubernetes?: LabKubernetes;
}

/** Kubernetes in the lab: the release server's binaries and the registry's images. */
export interface LabKubernetes {
  /** "1.20.2" */
  version: string;
  /** HaControlPlane's install.baseUrl: "http://<gateway>:8780/kubernetes". */
  releaseBaseUrl: string;
  /** HaControlPlane's install.sha256. */
  sha256: { kubeadm: string; kubelet: string; kubectl: string };
  /** HaControlPlane's imageRepository: "<gateway>:5000/k8s". */
  imageRepository: string;
  /** The registry CA's certificate (PEM), which every host trusts. */
  registryCaPem: string;
}

export interface CreateLabOptions {
  /** Lab name: 1-20 of [a-z0-9-], starting with a letter. */
  name: string;
  /** How many hosts the lab must have at least (existing extra hosts are kept). */
  hosts: number;
  /** Subnet 10.77.<subnetIndex>.0/24. Default 0, or the existing lab's. */
  subnetIndex?: number;
  /**
   * Also serve Kubernetes: its binaries on the release server and its images from a registry on the
   * gateway (lab/hosts/kubernetes.ts, images.ts, registry.ts). Once set for a lab, it stays set.
   */
  kubernetes?: boolean;
  log?: Log;
}

/** A host by name or as the lab lists it. */
export type HostRef = string | LabHost;
