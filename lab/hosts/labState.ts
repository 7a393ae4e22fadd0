/** The lab's state as callers see it (Lab, LabHost), read and changed one caller at a time. */
import * as fs from "fs";
import * as path from "path";
import { hostPaths, isRunning } from "./host";
import { subnetOf } from "./network";
import { cacheDir, labDir, labRoot } from "./paths";
import { labImageRepository } from "./registry";
import { kubernetesReleaseBaseUrl, releaseBaseUrl } from "./release";
import { isAlive, Log, withLock } from "./run";
import { HostState, LabState, readState, statePath } from "./state";
import type { HostRef, Lab, LabHost } from "./labTypes";

export function nameOf(host: HostRef): string {
  return typeof host === "string" ? host : host.name;
}

export function prefixed(name: string, log: Log): Log {
  return (msg) => log(`[lab ${name}] ${msg}`);
}

export function mustReadState(name: string): LabState {
  const state = readState(name);
  if (!state) throw new Error(`no lab ${name} (no ${statePath(name)}): createLab first`);
  return state;
}

export function readStateQuietly(name: string): LabState | undefined {
  try {
    return readState(name);
  } catch {
    return undefined; // unreadable: destroyLab falls back to what it finds on disk
  }
}

/** Per lab: the tail of the queue of this process's pending changes. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Serializes changes to one lab's state: in this process through a queue (parallel powerOff calls on two
 * hosts must not overwrite each other's state), across processes through a lock file beside the lab
 * folder (destroyLab removes the folder).
 */
export function withLabLock<T>(name: string, log: Log, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(labRoot(), { recursive: true, mode: 0o700 });
  const locked = () => withLock(path.join(labRoot(), `.${name}.lock`), log, fn);
  const next = (queues.get(name) ?? Promise.resolve()).then(locked, locked);
  queues.set(
    name,
    next.catch(() => undefined),
  );
  return next;
}

export function toLab(state: LabState): Lab {
  const { subnet, gateway } = subnetOf(state.subnetIndex);
  const dir = labDir(state.name);
  const baseUrl = releaseBaseUrl(gateway);
  const rel = state.etcdRelease;
  const k8s = state.kubernetes;
  return {
    name: state.name,
    dir,
    bridge: state.bridge,
    subnetIndex: state.subnetIndex,
    subnet,
    gateway,
    hosts: state.hosts.map((h) => toLabHost(state, h)),
    privateKeyPath: path.join(dir, "id_ed25519"),
    publicKey: fs.readFileSync(path.join(dir, "id_ed25519.pub"), "utf8").trim(),
    releaseBaseUrl: baseUrl,
    etcdRelease: {
      version: rel?.version ?? "",
      baseUrl,
      sha256: rel?.sha256 ?? "",
      url: rel ? `${baseUrl}/${rel.version}/${path.posix.basename(rel.file)}` : "",
    },
    kubernetes: k8s && {
      version: k8s.version,
      releaseBaseUrl: kubernetesReleaseBaseUrl(gateway),
      sha256: { ...k8s.sha256 },
      imageRepository: labImageRepository(gateway),
      registryCaPem: fs.readFileSync(path.join(cacheDir(), "registry", "ca", "ca.crt"), "utf8"),
    },
  };
}

function toLabHost(state: LabState, h: HostState): LabHost {
  const running = isRunning(h);
  return {
    name: h.name,
    address: h.address,
    hostKey: h.hostKey,
    pid: running ? h.leader?.pid : undefined,
    nspawnPid: running && isAlive(h.nspawn) ? h.nspawn?.pid : undefined,
    rootDir: hostPaths(state.name, h.name).merged,
    running,
    linkDown: h.linkDown ?? false,
  };
}

/** Updates a caller's Lab object in place, so that references to it stay current. */
export function sync(lab: Lab, state: LabState): void {
  Object.assign(lab, toLab(state));
}
