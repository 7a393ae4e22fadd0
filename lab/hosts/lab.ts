import * as fs from "fs";
import * as path from "path";
import {
  deleteHost,
  execInHost,
  hostPaths,
  isRunning,
  killContainer,
  logTail,
  mountOverlay,
  startContainer,
  writeEtcHosts,
  writeIdentity,
  writeRegistryCa,
} from "./host";
import { isMounted, removeTree, unmountAll } from "./mounts";
import {
  bridgeName,
  deleteLink,
  ensureBridge,
  hostAddress,
  hostVeth,
  machineName,
  setVeth,
  subnetOf,
} from "./network";
import { assertLabName, cacheDir, labDir, labRoot } from "./paths";
import { ensureLabImages } from "./images";
import { ensureKubernetesBinaries, publishKubernetesBinaries } from "./kubernetes";
import { ensureRegistryCa, findStrayRegistries, labImageRepository, startLabRegistry } from "./registry";
import { ensurePrerequisites } from "./prereqs";
import {
  ensureEtcdTarball,
  findStrayReleaseServers,
  publishTarball,
  kubernetesReleaseBaseUrl,
  releaseBaseUrl,
  startReleaseServer,
  RELEASE_PORT,
} from "./release";
import { ensureRootfs, rootfsReady } from "./rootfs";
import { elapsed, GiveUp, isAlive, Log, run, silent, stopProcess, waitFor, withLock } from "./run";
import { hostState, HostState, LabState, readState, statePath, writeState } from "./state";
import { sshExec, SshTarget } from "./ssh";
import { LAB_SUBNETS } from "./subnets";
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

/** The lab's SSH key pair (ed25519, OpenSSH format, no passphrase); made once. Returns the public line. */
async function ensureKeyPair(name: string): Promise<string> {
  const key = path.join(labDir(name), "id_ed25519");
  if (!fs.existsSync(key) || !fs.existsSync(`${key}.pub`)) {
    fs.rmSync(key, { force: true });
    fs.rmSync(`${key}.pub`, { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `hakube-lab-${name}`, "-f", key]);
  }
  return fs.readFileSync(`${key}.pub`, "utf8").trim();
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

/** Boots the hosts that are not running (in parallel) and waits until all of them are ready. */
async function bringUp(state: LabState, hosts: HostState[], publicKey: string, log: Log): Promise<void> {
  const registryCa = state.kubernetes ? (await ensureRegistryCa()).pem : undefined;
  await Promise.all(hosts.map((h) => bootHost(state, h, publicKey, log, registryCa)));
  // Hosts that already ran may have an outdated host list, or lack the registry CA.
  for (const h of state.hosts) {
    if (!isMounted(hostPaths(state.name, h.name).merged)) continue;
    writeEtcHosts(state, h);
    if (registryCa !== undefined && isRunning(h) && !hosts.includes(h)) {
      writeRegistryCa(state, h, registryCa);
      await execInHost(h, "update-ca-certificates >/dev/null");
    }
  }
}

async function bootHost(
  state: LabState,
  host: HostState,
  publicKey: string,
  log: Log,
  registryCa?: string,
): Promise<void> {
  const t0 = Date.now();
  if (isRunning(host)) {
    await waitReady(state, host, log);
    log(`${host.name}: already running (${host.address})`);
    return;
  }
  await killContainer(state, host); // a half-dead nspawn from a crash
  await mountOverlay(state, host);
  host.hostKey = await writeIdentity(state, host, publicKey);
  writeRegistryCa(state, host, registryCa);
  writeState(state);
  const { nspawn, leader } = await startContainer(state, host);
  Object.assign(host, { nspawn, leader });
  writeState(state);
  log(`${host.name}: booting (nspawn pid ${nspawn.pid}, init pid ${leader.pid})`);
  if (host.linkDown) await setVeth(await waitForVeth(host), false);
  await waitReady(state, host, log);
  log(`${host.name}: ready at ${host.address} after ${elapsed(t0)}`);
}

async function waitForVeth(host: HostState): Promise<string> {
  const leader = host.leader;
  if (!leader) throw new Error(`host ${host.name} is not running`);
  return waitFor(`the veth of ${host.name}`, () => hostVeth(leader.pid), 10_000, 50);
}

/**
 * Ready: SSH answers with the lab key and the pinned host key, and systemd finished booting (running,
 * or degraded: a failed unit is reported but not fatal). With the link cut, checked through nsenter.
 */
async function waitReady(state: LabState, host: HostState, log: Log, timeoutMs = 120_000): Promise<void> {
  const paths = hostPaths(state.name, host.name);
  const check = "systemctl is-system-running --wait";
  const status = await waitFor(
    `${host.name} to answer SSH and finish booting`,
    async () => {
      if (!isRunning(host))
        throw new GiveUp(`${host.name} stopped while booting; ${paths.log}:\n${logTail(paths.log)}`);
      const r = host.linkDown
        ? await execInHost(host, check, { timeoutMs: 60_000 })
        : await sshExec(targetOf(state, host), check, { timeoutMs: 60_000 });
      const s = r.stdout.trim();
      if (s === "running" || s === "degraded") return s;
      throw new Error(`systemd is ${s || r.stderr.trim()}`);
    },
    timeoutMs,
    200,
  );
  if (status === "degraded") {
    const failed = await execInHost(host, "systemctl --failed --no-legend --plain | cut -d' ' -f1");
    log(`${host.name}: systemd degraded, failed units: ${failed.stdout.trim().split("\n").join(" ")}`);
  }
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

// --- faults ---------------------------------------------------------------------------------------------

/**
 * Power cut: the host falls silent on the network, then its processes die at once (SIGKILL of its init).
 * The link goes first because a real machine that loses power sends nothing more, whereas processes
 * killed on a live network stack would answer with resets while they die. Its disk (overlay) is kept.
 */
export async function powerOff(lab: Lab, host: HostRef): Promise<void> {
  await withLabLock(lab.name, silent, async () => {
    const state = mustReadState(lab.name);
    const h = hostState(state, nameOf(host));
    if (isRunning(h)) await setVeth(await waitForVeth(h), false);
    await killContainer(state, h);
    writeState(state);
    sync(lab, state);
  });
}

/** Boots a powered-off host again on the same overlay and waits until it is ready. No-op if it runs. */
export async function powerOn(lab: Lab, host: HostRef, log: Log = silent): Promise<void> {
  const plog = prefixed(lab.name, log);
  await withLabLock(lab.name, plog, async () => {
    const state = mustReadState(lab.name);
    const h = hostState(state, nameOf(host));
    const registryCa = state.kubernetes ? (await ensureRegistryCa()).pem : undefined;
    await bootHost(state, h, await ensureKeyPair(lab.name), plog, registryCa);
    writeState(state);
    sync(lab, state);
  });
}

/** Cuts the host's cable (the host side of its veth goes down): it stays up but unreachable. */
export async function linkDown(lab: Lab, host: HostRef): Promise<void> {
  await setLink(lab, host, false);
}

export async function linkUp(lab: Lab, host: HostRef): Promise<void> {
  await setLink(lab, host, true);
}

async function setLink(lab: Lab, host: HostRef, up: boolean): Promise<void> {
  await withLabLock(lab.name, silent, async () => {
    const state = mustReadState(lab.name);
    const h = hostState(state, nameOf(host));
    // A stopped host has no veth: the flag is applied when it boots again.
    if (isRunning(h)) await setVeth(await waitForVeth(h), up);
    h.linkDown = !up;
    writeState(state);
    sync(lab, state);
  });
}

// --- helpers --------------------------------------------------------------------------------------------

function targetOf(state: LabState, host: HostState): SshTarget {
  const privateKey = fs.readFileSync(path.join(labDir(state.name), "id_ed25519"), "utf8");
  return { address: host.address, hostKey: host.hostKey, privateKey, user: "root" };
}

export function nameOf(host: HostRef): string {
  return typeof host === "string" ? host : host.name;
}

function prefixed(name: string, log: Log): Log {
  return (msg) => log(`[lab ${name}] ${msg}`);
}

export function mustReadState(name: string): LabState {
  const state = readState(name);
  if (!state) throw new Error(`no lab ${name} (no ${statePath(name)}): createLab first`);
  return state;
}

function readStateQuietly(name: string): LabState | undefined {
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
function withLabLock<T>(name: string, log: Log, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(labRoot(), { recursive: true, mode: 0o700 });
  const locked = () => withLock(path.join(labRoot(), `.${name}.lock`), log, fn);
  const next = (queues.get(name) ?? Promise.resolve()).then(locked, locked);
  queues.set(
    name,
    next.catch(() => undefined),
  );
  return next;
}

function toLab(state: LabState): Lab {
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
function sync(lab: Lab, state: LabState): void {
  Object.assign(lab, toLab(state));
}
