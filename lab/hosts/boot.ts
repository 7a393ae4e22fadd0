/** Booting the lab's hosts: the SSH key pair, a container started on its overlay, ready when SSH answers. */
import * as fs from "fs";
import * as path from "path";
import {
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
import { isMounted } from "./mounts";
import { hostVeth, setVeth } from "./network";
import { labDir } from "./paths";
import { ensureRegistryCa } from "./registry";
import { elapsed, GiveUp, Log, run, waitFor } from "./run";
import { HostState, LabState, writeState } from "./state";
import { sshExec, SshTarget } from "./ssh";

/** The lab's SSH key pair (ed25519, OpenSSH format, no passphrase); made once. Returns the public line. */
export async function ensureKeyPair(name: string): Promise<string> {
  const key = path.join(labDir(name), "id_ed25519");
  if (!fs.existsSync(key) || !fs.existsSync(`${key}.pub`)) {
    fs.rmSync(key, { force: true });
    fs.rmSync(`${key}.pub`, { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `hakube-lab-${name}`, "-f", key]);
  }
  return fs.readFileSync(`${key}.pub`, "utf8").trim();
}

/** Boots the hosts that are not running (in parallel) and waits until all of them are ready. */
export async function bringUp(
  state: LabState,
  hosts: HostState[],
  publicKey: string,
  log: Log,
): Promise<void> {
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

export async function bootHost(
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

export async function waitForVeth(host: HostState): Promise<string> {
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

function targetOf(state: LabState, host: HostState): SshTarget {
  const privateKey = fs.readFileSync(path.join(labDir(state.name), "id_ed25519"), "utf8");
  return { address: host.address, hostKey: host.hostKey, privateKey, user: "root" };
}
