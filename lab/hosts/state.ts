import * as fs from "fs";
import * as path from "path";
import { labDir } from "./paths";
import type { ProcRef } from "./run";

/**
 * The lab's state file, `.lab/<name>/state.json` (mode 0600): enough to find and tear down everything
 * a lab made, even after a crash half-way through createLab. It is written before each resource is made.
 */

export interface HostState {
  name: string;
  /** 1-based: m1 has number 1 and address .11. */
  number: number;
  address: string;
  /** nspawn machine name; the host side of its veth is derived from it. */
  machine: string;
  /** authorized_keys line of the host's ed25519 key, empty until generated. */
  hostKey: string;
  /** The systemd-nspawn process, while the host runs. */
  nspawn?: ProcRef;
  /** The host's init (PID 1 inside its pid namespace), while the host runs. */
  leader?: ProcRef;
  /** Set by linkDown: the cable stays cut across powerOff/powerOn until linkUp. */
  linkDown?: boolean;
}

export interface ReleaseState {
  version: string;
  sha256: string;
  /** Path under the release folder, e.g. "etcd/v3.4.23/etcd-v3.4.23-linux-amd64.tar.gz". */
  file: string;
}

export interface KubernetesState {
  version: string;
  /** sha256 of the binaries nodes download (kubeadm, kubelet, kubectl). */
  sha256: { kubeadm: string; kubelet: string; kubectl: string };
}

export interface LabState {
  version: 1;
  name: string;
  subnetIndex: number;
  bridge: string;
  /** The cached rootfs used as every host's lower layer (it must not change while the lab exists). */
  rootfs: string;
  releasePort: number;
  releaseServer?: ProcRef;
  etcdRelease?: ReleaseState;
  /** Set once the lab serves Kubernetes (binaries on the release server, images in its registry). */
  kubernetes?: KubernetesState;
  /** The lab's image registry (docker-registry on the gateway), while it runs. */
  registry?: ProcRef;
  hosts: HostState[];
  createdAt: string;
}

export function statePath(name: string): string {
  return path.join(labDir(name), "state.json");
}

export function readState(name: string): LabState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(statePath(name), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const state = JSON.parse(text) as LabState;
  if (state.version !== 1)
    throw new Error(`${statePath(name)}: unknown state version ${String(state.version)}`);
  return state;
}

/** Atomic (write then rename) so that a crash never leaves half a state file behind. */
export function writeState(state: LabState): void {
  const file = statePath(state.name);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function hostState(state: LabState, name: string): HostState {
  const h = state.hosts.find((x) => x.name === name);
  if (!h)
    throw new Error(
      `lab ${state.name} has no host ${name} (hosts: ${state.hosts.map((x) => x.name).join(", ")})`,
    );
  return h;
}
