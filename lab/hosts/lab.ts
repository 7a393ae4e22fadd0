import * as fs from "fs";
import * as path from "path";
import { deleteHost, hostPaths, killContainer, writeEtcHosts } from "./host";
import { isMounted, removeTree, unmountAll } from "./mounts";
import { bridgeName, deleteLink, ensureBridge, hostAddress, machineName, subnetOf } from "./network";
import { assertLabName, labDir, labRoot } from "./paths";
import { ensureLabImages } from "./images";
import { ensureKubernetesBinaries, publishKubernetesBinaries } from "./kubernetes";
import { findStrayRegistries, labImageRepository, startLabRegistry } from "./registry";
import { ensurePrerequisites } from "./prereqs";
import {
  ensureEtcdTarball,
  findStrayReleaseServers,
  publishTarball,
  releaseBaseUrl,
  startReleaseServer,
  RELEASE_PORT,
} from "./release";
import { ensureRootfs, rootfsReady } from "./rootfs";
import { elapsed, isAlive, Log, silent, stopProcess } from "./run";
import { hostState, HostState, LabState, readState, writeState } from "./state";
import { LAB_SUBNETS } from "./subnets";
import { bringUp, ensureKeyPair } from "./boot";
import { mustReadState, nameOf, prefixed, readStateQuietly, sync, toLab, withLabLock } from "./labState";
import type { CreateLabOptions, HostRef, Lab, LabHost } from "./labTypes";

export type { CreateLabOptions, EtcdRelease, HostRef, Lab, LabHost, LabKubernetes } from "./labTypes";

// --- create -------------------------------------------------------------------------------------------

/**
 * Creates the lab, or completes and restarts an existing one: hosts that already run are kept as they
 * are, stopped ones are booted again with their overlay (state kept), missing ones are added. Resolves
 * once every host answers SSH with the lab key and its systemd has finished booting.
 */
export async function createLab(opts: CreateLabOptions): Promise<Lab> {
  assertLabName(opts.name);
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1)
    throw new RangeError(`hosts must be >= 1, got ${opts.hosts}`);
  const log = prefixed(opts.name, opts.log ?? silent);
  const t0 = Date.now();
  await ensurePrerequisites(log);
  const rootfs = await ensureRootfs(log);
  log(`rootfs: ${rootfs}`);
  return withLabLock(opts.name, log, async () => {
    const state = initialState(opts, rootfs);
    writeState(state); // first, so that destroyLab finds whatever follows even after a crash
    const publicKey = await ensureKeyPair(opts.name);
    await ensureBridge(state.bridge, state.subnetIndex);
    log(`bridge ${state.bridge}: ${subnetOf(state.subnetIndex).gateway}/24, no route out`);
    const tarball = await ensureReleaseServer(state, log);
    if (opts.kubernetes || state.kubernetes) await ensureKubernetes(state, rootfs, tarball, log);
    while (state.hosts.length < opts.hosts) state.hosts.push(newHost(state));
    writeState(state);
    await bringUp(state, state.hosts, publicKey, log);
    log(
      `lab ready: ${state.hosts.length} hosts on ${subnetOf(state.subnetIndex).subnet} after ${elapsed(t0)}`,
    );
    return toLab(state);
  });
}

/** The existing state, checked against the options, or a new one. */
function initialState(opts: CreateLabOptions, rootfs: string): LabState {
  const existing = readState(opts.name);
  if (existing) {
    if (opts.subnetIndex !== undefined && opts.subnetIndex !== existing.subnetIndex) {
      throw new Error(
        `lab ${opts.name} exists with subnetIndex ${existing.subnetIndex}, not ${opts.subnetIndex}: destroyLab it first`,
      );
    }
    if (!rootfsReady(existing.rootfs)) {
      throw new Error(
        `lab ${opts.name} was built on ${existing.rootfs}, which is gone: destroyLab it and create it again`,
      );
    }
    return existing;
  }
  const subnetIndex = opts.subnetIndex ?? LAB_SUBNETS.main;
  subnetOf(subnetIndex); // validates
  for (const other of listLabNames().map(readStateQuietly)) {
    if (other && other.subnetIndex === subnetIndex) {
      throw new Error(`subnetIndex ${subnetIndex} is used by lab ${other.name}: choose another one`);
    }
  }
  return {
    version: 1,
    name: opts.name,
    subnetIndex,
    bridge: bridgeName(opts.name),
    rootfs,
    releasePort: RELEASE_PORT,
    hosts: [],
    createdAt: new Date().toISOString(),
  };
}

function newHost(state: LabState): HostState {
  const used = new Set(state.hosts.map((h) => h.number));
  let number = 1;
  while (used.has(number)) number++;
  const name = `m${number}`;
  return {
    name,
    number,
    address: hostAddress(state.subnetIndex, number),
    machine: machineName(state.subnetIndex, name),
    hostKey: "",
  };
}

/**
 * Kubernetes binaries published on the release server, images in the registry storage, the lab's
 * registry running on the gateway. Hosts get the registry's CA when they boot (bootHost).
 */
async function ensureKubernetes(
  state: LabState,
  rootfs: string,
  etcdTarball: string,
  log: Log,
): Promise<void> {
  const binaries = await ensureKubernetesBinaries(log);
  publishKubernetesBinaries(state.name, binaries);
  await ensureLabImages({ binaries, rootfs, etcdTarball }, log);
  const sha = (b: "kubeadm" | "kubelet" | "kubectl") => binaries.files[b].sha256;
  state.kubernetes = {
    version: binaries.version,
    sha256: { kubeadm: sha("kubeadm"), kubelet: sha("kubelet"), kubectl: sha("kubectl") },
  };
  if (!isAlive(state.registry)) {
    for (const stray of findStrayRegistries(state.name)) await stopProcess(stray);
    state.registry = await startLabRegistry(state.name, subnetOf(state.subnetIndex).gateway);
    log(`registry on ${labImageRepository(subnetOf(state.subnetIndex).gateway)} (pid ${state.registry.pid})`);
  }
  writeState(state);
}

async function ensureReleaseServer(state: LabState, log: Log): Promise<string> {
  const tarball = await ensureEtcdTarball(state.rootfs, log);
  publishTarball(state.name, tarball);
  state.etcdRelease = { version: tarball.version, sha256: tarball.sha256, file: tarball.file };
  if (!isAlive(state.releaseServer)) {
    for (const stray of findStrayReleaseServers(state.name)) await stopProcess(stray);
    const { gateway } = subnetOf(state.subnetIndex);
    state.releaseServer = await startReleaseServer(state.name, gateway);
    log(`release server on ${releaseBaseUrl(gateway)} (pid ${state.releaseServer.pid})`);
  }
  writeState(state);
  return tarball.path;
}

// --- grow and shrink ----------------------------------------------------------------------------------

/** Adds `count` hosts (next free names and addresses) and waits until they are ready. */
export async function addHosts(lab: Lab, count: number, log: Log = silent): Promise<LabHost[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be >= 1, got ${count}`);
  const plog = prefixed(lab.name, log);
  const added = await withLabLock(lab.name, plog, async () => {
    const state = mustReadState(lab.name);
    const fresh: HostState[] = [];
    for (let i = 0; i < count; i++) {
      fresh.push(newHost(state));
      state.hosts.push(fresh[fresh.length - 1]);
    }
    writeState(state);
    await bringUp(state, fresh, await ensureKeyPair(lab.name), plog);
    writeState(state);
    sync(lab, state);
    return fresh.map((h) => h.name);
  });
  return lab.hosts.filter((h) => added.includes(h.name));
}

/** Stops a host and deletes it with its overlay; the other hosts' /etc/hosts forget it. */
export async function removeHost(lab: Lab, host: HostRef, log: Log = silent): Promise<void> {
  const plog = prefixed(lab.name, log);
  await withLabLock(lab.name, plog, async () => {
    const state = mustReadState(lab.name);
    const h = hostState(state, nameOf(host));
    await deleteHost(state, h);
    state.hosts = state.hosts.filter((x) => x !== h);
    writeState(state);
    for (const other of state.hosts) {
      if (isMounted(hostPaths(state.name, other.name).merged)) writeEtcHosts(state, other);
    }
    sync(lab, state);
    plog(`${h.name}: removed`);
  });
}

// --- destroy ------------------------------------------------------------------------------------------

/**
 * Removes everything the lab made: containers (by recorded pid, or found by their overlay path when the
 * state file missed them), overlay mounts, the bridge, the release server, and `.lab/<name>/`. Works on a
 * partial state (crash half-way through createLab) and when nothing is left. Keeps the rootfs cache.
 */
export async function destroyLab(name: string, log: Log = silent): Promise<void> {
  assertLabName(name);
  const plog = prefixed(name, log);
  const t0 = Date.now();
  await withLabLock(name, plog, async () => {
    const dir = labDir(name);
    const state = readStateQuietly(name);
    for (const h of hostsToDestroy(name, state)) {
      await killContainer(state ?? orphanState(name), h);
    }
    await unmountAll(dir);
    const servers = [
      state?.releaseServer,
      ...findStrayReleaseServers(name),
      state?.registry,
      ...findStrayRegistries(name),
    ];
    for (const s of servers) await stopProcess(s);
    await deleteLink(state?.bridge ?? bridgeName(name));
    await removeTree(dir);
  });
  plog(`destroyed after ${elapsed(t0)}`);
}

/** The state's hosts plus host folders the state does not list (a crash before the state was saved). */
function hostsToDestroy(name: string, state: LabState | undefined): HostState[] {
  const hosts = [...(state?.hosts ?? [])];
  const hostsDir = path.join(labDir(name), "hosts");
  const onDisk = fs.existsSync(hostsDir) ? fs.readdirSync(hostsDir) : [];
  for (const d of onDisk) {
    if (!hosts.some((h) => h.name === d)) {
      const machine = state ? machineName(state.subnetIndex, d) : `unknown-${d}`;
      hosts.push({ name: d, number: 0, address: "", machine, hostKey: "" });
    }
  }
  return hosts;
}

function orphanState(name: string): LabState {
  return {
    version: 1,
    name,
    subnetIndex: -1,
    bridge: bridgeName(name),
    rootfs: "",
    releasePort: RELEASE_PORT,
    hosts: [],
    createdAt: "",
  };
}

/** Destroys every lab under `.lab/` (CI cleanup). The rootfs cache stays. */
export async function destroyAllLabs(log: Log = silent): Promise<void> {
  for (const name of listLabNames()) await destroyLab(name, log);
}

/** Lab folders under `.lab/` (every folder except the cache and those that are not valid lab names). */
export function listLabNames(): string[] {
  if (!fs.existsSync(labRoot())) return [];
  return fs
    .readdirSync(labRoot(), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "cache" && /^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/.test(d.name))
    .map((d) => d.name);
}

// --- load -----------------------------------------------------------------------------------------------

/** The lab as its state file describes it (with the hosts' current liveness), or undefined. */
export async function loadLab(name: string): Promise<Lab | undefined> {
  assertLabName(name);
  const state = readState(name);
  return state ? toLab(state) : undefined;
}
