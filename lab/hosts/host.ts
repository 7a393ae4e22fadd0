import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { createHostCgroups, removeHostCgroups } from "./cgroups";
import { LAB_NODE_UNIT_LINK, LAB_REGISTRY_CA_PATH, labNodeFiles } from "./node";
import { isMounted, removeTree, unmountAll } from "./mounts";
import { SUBNET_PREFIX } from "./network";
import { assertPlainPath, labDir } from "./paths";
import {
  allPids,
  cleanEnv,
  cmdlineOf,
  isAlive,
  parentOf,
  ProcRef,
  procRef,
  run,
  RunResult,
  stopProcess,
  waitFor,
} from "./run";
import type { HostState, LabState } from "./state";

/**
 * One lab host: a systemd-nspawn container booting systemd on an overlay of the cached rootfs.
 * Its folder `.lab/<lab>/hosts/<name>/` holds upper/ (everything the host wrote: its state survives a
 * power cycle), work/ (overlayfs scratch), merged/ (the mounted root) and nspawn.log.
 */

export function hostPaths(labName: string, hostName: string) {
  const dir = path.join(labDir(labName), "hosts", hostName);
  return {
    dir,
    upper: path.join(dir, "upper"),
    work: path.join(dir, "work"),
    merged: path.join(dir, "merged"),
    log: path.join(dir, "nspawn.log"),
    /** Bound to /var/lib/containerd: containerd's overlay snapshots cannot live on the host's overlay root. */
    containerd: path.join(dir, "containerd"),
  };
}

/** Mounts the host's overlay (upper over the cached rootfs) unless it already is. */
export async function mountOverlay(state: LabState, host: HostState): Promise<void> {
  const p = hostPaths(state.name, host.name);
  if (isMounted(p.merged)) return;
  for (const d of [p.upper, p.work, p.merged]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  for (const d of [state.rootfs, p.upper, p.work, p.merged]) assertPlainPath(d);
  await run("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${state.rootfs},upperdir=${p.upper},workdir=${p.work}`,
    p.merged,
  ]);
}

// --- files that make a clone a distinct host --------------------------------------------------------

function put(root: string, file: string, content: string, mode = 0o644): void {
  const p = path.join(root, file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content, { mode });
  fs.chmodSync(p, mode); // writeFileSync keeps the mode of an existing file
}

/** /etc/hosts with every lab host, so names resolve with no DNS. Rewritten when hosts come and go. */
export function writeEtcHosts(state: LabState, host: HostState): void {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", ""];
  for (const h of state.hosts) lines.push(`${h.address}\t${h.name}`);
  put(hostPaths(state.name, host.name).merged, "etc/hosts", lines.join("\n") + "\n");
}

/**
 * Overrides nspawn's default 80-container-host0.network (DHCP + link-local) by using the same file name:
 * a static address, no gateway, so the host has no route beyond the lab subnet. A cut cable keeps the
 * configuration (IgnoreCarrierLoss), as on a server with a static address, and addresses others add
 * (a keepalived VIP) are not networkd's to remove.
 */
function networkFile(address: string): string {
  return [
    "# hakube lab: static address, no DHCP, no gateway: the lab has no route out.",
    "[Match]",
    "Virtualization=container",
    "Name=host0",
    "",
    "[Network]",
    `Address=${address}/${SUBNET_PREFIX}`,
    "DHCP=no",
    "LinkLocalAddressing=no",
    "IPv6AcceptRA=no",
    "ConfigureWithoutCarrier=yes",
    "IgnoreCarrierLoss=yes",
    "KeepConfiguration=yes",
    "",
  ].join("\n");
}

/**
 * Writes the host's identity into its overlay before it boots: hostname, machine id, address, SSH host
 * key (generated once: a power cycle or a second createLab keeps it) and root's authorized_keys.
 * Returns the host's public key as an authorized_keys line.
 */
export async function writeIdentity(state: LabState, host: HostState, labPublicKey: string): Promise<string> {
  const root = hostPaths(state.name, host.name).merged;
  put(root, "etc/hostname", `${host.name}\n`);
  if (fs.readFileSync(path.join(root, "etc/machine-id"), "utf8").trim() === "") {
    put(root, "etc/machine-id", `${crypto.randomBytes(16).toString("hex")}\n`, 0o444);
  }
  put(root, "etc/systemd/network/80-container-host0.network", networkFile(host.address));
  writeEtcHosts(state, host);
  const key = path.join(root, "etc/ssh/ssh_host_ed25519_key");
  if (!fs.existsSync(key)) {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `root@${host.name}`, "-f", key]);
  }
  fs.mkdirSync(path.join(root, "root/.ssh"), { recursive: true, mode: 0o700 });
  put(root, "root/.ssh/authorized_keys", labPublicKey.trim() + "\n", 0o600);
  writeLabNodeFiles(root);
  const [type, blob] = fs.readFileSync(`${key}.pub`, "utf8").trim().split(/\s+/);
  return `${type} ${blob}`;
}

/** The lab's Kubernetes node measures (lab/hosts/node.ts), enabled at boot; rewritten at every boot. */
function writeLabNodeFiles(root: string): void {
  for (const f of labNodeFiles()) put(root, f.path, f.content, f.mode);
  const link = path.join(root, LAB_NODE_UNIT_LINK.path);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { force: true });
  fs.symlinkSync(LAB_NODE_UNIT_LINK.target, link);
}

/** Makes the host trust the lab registry's CA (applied by the node unit at boot), or forget it. */
export function writeRegistryCa(state: LabState, host: HostState, caPem: string | undefined): void {
  const file = path.join(hostPaths(state.name, host.name).merged, LAB_REGISTRY_CA_PATH);
  if (caPem === undefined) fs.rmSync(file, { force: true });
  else put(hostPaths(state.name, host.name).merged, LAB_REGISTRY_CA_PATH.slice(1), caPem);
}

// --- running ------------------------------------------------------------------------------------------

/** True while the host's container runs (its init is alive). */
export function isRunning(host: HostState): boolean {
  return isAlive(host.leader);
}

/**
 * Starts systemd-nspawn detached (it outlives this process; its output goes to nspawn.log) and returns
 * it with the host's init process. --register=no --keep-unit: this machine's PID 1 is not systemd, so
 * nspawn must neither talk to machined nor create a scope unit.
 */
export async function startContainer(
  state: LabState,
  host: HostState,
): Promise<{ nspawn: ProcRef; leader: ProcRef }> {
  const p = hostPaths(state.name, host.name);
  const args = [
    "--register=no",
    "--keep-unit",
    "--boot",
    `--network-bridge=${state.bridge}`,
    "--console=pipe",
    "--resolv-conf=off",
    "--link-journal=no",
    // For a kubelet inside (lab/hosts/node.ts has the rest): every capability the machine has, the
    // syscalls runc and the kubelet use that nspawn filters by default, and the kernel log the kubelet reads.
    "--capability=all",
    "--system-call-filter=@keyring bpf",
    "--bind=/dev/kmsg",
    // containerd stacks overlay mounts for its images, and an overlay cannot have its upper layer on an
    // overlay (the host's root): its state gets a folder on this machine's own disk (kind uses a volume).
    `--bind=${p.containerd}:/var/lib/containerd`,
    `--machine=${host.machine}`,
    `--hostname=${host.name}`,
    "-D",
    p.merged,
  ];
  fs.mkdirSync(p.containerd, { recursive: true, mode: 0o711 });
  assertPlainPath(p.containerd);
  const cgroups = createHostCgroups(host.machine);
  cgroups.forEach(assertPlainPath);
  const logFd = fs.openSync(p.log, "a", 0o600);
  fs.writeSync(logFd, `--- ${new Date().toISOString()} systemd-nspawn ${args.join(" ")}\n`);
  // The shell joins the host's own cgroups, then becomes nspawn (same pid): see cgroups.ts for why.
  const enterCgroups = 'for g in $HAKUBE_CGROUPS; do echo $$ > "$g/cgroup.procs" || exit 97; done; exec "$@"';
  const child = spawn("/bin/sh", ["-c", enterCgroups, "sh", "systemd-nspawn", ...args], {
    detached: true,
    stdio: ["ignore", logFd, logFd],
    env: cleanEnv({ HAKUBE_CGROUPS: cgroups.join(" ") }),
  });
  fs.closeSync(logFd);
  const exited = new Promise<string>((resolve) =>
    child.on("exit", (code, signal) => resolve(`systemd-nspawn exited (${signal ?? code})`)),
  );
  child.on("error", () => undefined); // reported through `exited` / the missing pid
  child.unref();
  const nspawn = child.pid === undefined ? undefined : procRef(child.pid);
  if (!nspawn) throw new Error(`systemd-nspawn for ${host.name} did not start; see ${p.log}`);
  const leader = await Promise.race([
    waitFor(`the init process of ${host.name}`, async () => findLeader(nspawn.pid), 20_000, 50),
    exited.then((why) => {
      throw new Error(`${host.name}: ${why}; last lines of ${p.log}:\n${logTail(p.log)}`);
    }),
  ]);
  return { nspawn, leader };
}

/**
 * The container's init: the child of nspawn in another pid namespace, once it has exec'd (before that
 * it is still a copy of nspawn setting up the mounts).
 */
function findLeader(nspawnPid: number): ProcRef | undefined {
  const ourPidNs = fs.readlinkSync("/proc/self/ns/pid");
  for (const pid of allPids()) {
    if (parentOf(pid) !== nspawnPid) continue;
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/pid`) === ourPidNs) continue;
    } catch {
      continue;
    }
    const argv0 = cmdlineOf(pid)?.[0] ?? "";
    if (argv0 && !argv0.includes("nspawn")) return procRef(pid);
  }
  return undefined;
}

/** nspawn processes of this host that the state file may not know (crash between spawn and save). */
export function findStrayNspawn(merged: string): ProcRef[] {
  const refs: ProcRef[] = [];
  for (const pid of allPids()) {
    const argv = cmdlineOf(pid);
    if (!argv || path.basename(argv[0]) !== "systemd-nspawn") continue;
    const d = argv.indexOf("-D");
    if (d >= 0 && argv[d + 1] === merged) {
      const ref = procRef(pid);
      if (ref) refs.push(ref);
    }
  }
  return refs;
}

function machineArg(pid: number): string | undefined {
  return cmdlineOf(pid)
    ?.find((a) => a.startsWith("--machine="))
    ?.slice("--machine=".length);
}

export function logTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Power cut: SIGKILL the host's init, which kills every process of its pid namespace at once; nspawn then
 * exits and its veth disappears. (SIGKILL on nspawn alone would leave the container running, orphaned.)
 */
export async function killContainer(state: LabState, host: HostState): Promise<void> {
  const p = hostPaths(state.name, host.name);
  const nspawns = [host.nspawn, ...findStrayNspawn(p.merged)].filter(isAlive);
  // Machine names from the processes too: after a crash that lost the state, host.machine is a guess.
  const machines = new Set([
    host.machine,
    ...nspawns.map((n) => machineArg(n.pid)).filter((m) => m !== undefined),
  ]);
  const leaders = [host.leader, ...nspawns.map((n) => findLeader(n.pid))].filter(isAlive);
  for (const l of leaders) await stopProcess(l, "SIGKILL");
  for (const n of nspawns) await stopProcess(n, "SIGTERM", 5000);
  for (const machine of machines) {
    cleanNspawnLeftovers(machine, p.merged);
    // A cgroup can stay busy for a moment while the kernel finishes tearing the processes down.
    await waitFor(
      `the cgroups of ${host.name} to empty`,
      async () => {
        removeHostCgroups(machine);
        return true;
      },
      10_000,
      100,
    );
  }
  host.nspawn = undefined;
  host.leader = undefined;
}

/** Files nspawn removes itself on a clean exit, but not when its container was killed. */
function cleanNspawnLeftovers(machine: string, merged: string): void {
  fs.rmSync(`/run/systemd/nspawn/propagate/${machine}`, { recursive: true, force: true });
  try {
    const st = fs.statSync(merged);
    fs.rmSync(`/run/systemd/nspawn/locks/inode-${st.dev}:${st.ino}`, { force: true });
  } catch {
    // merged is gone already
  }
}

/** Stops the host and deletes its overlay (the cached rootfs is untouched). */
export async function deleteHost(state: LabState, host: HostState): Promise<void> {
  await killContainer(state, host);
  const p = hostPaths(state.name, host.name);
  await unmountAll(p.merged);
  await removeTree(p.dir);
}

// --- inside ---------------------------------------------------------------------------------------------

/**
 * Runs `sh -c cmd` inside a running host, entering all its namespaces (works while its link is down,
 * unlike SSH). The environment is reset to what a root login would have. Never throws on a non-zero exit.
 */
export async function execInHost(
  host: HostState,
  cmd: string,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  if (!isAlive(host.leader)) throw new Error(`host ${host.name} is not running`);
  const env = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "LANG=C.UTF-8",
  ];
  return run(
    "nsenter",
    ["-t", String(host.leader.pid), "-a", "/usr/bin/env", "-i", ...env, "/bin/sh", "-c", cmd],
    { input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000, allowFail: true },
  );
}
