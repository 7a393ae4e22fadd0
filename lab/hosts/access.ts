/** Access to a running lab's hosts: commands inside them, over SSH, the VIP's holders, their HostArgs. */
import * as fs from "fs";
import { execInHost } from "./host";
import { mustReadState, nameOf } from "./labState";
import type { HostRef, Lab } from "./labTypes";
import type { RunResult } from "./run";
import { SshExecOptions, sshExec, SshTarget } from "./ssh";
import { hostState } from "./state";

/** Runs `sh -c cmd` inside a running host (through nsenter: works with its link down). */
export async function exec(
  lab: Lab,
  host: HostRef,
  cmd: string,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const state = mustReadState(lab.name);
  return execInHost(hostState(state, nameOf(host)), cmd, opts);
}

/**
 * The running hosts that have `address` (IPv4) on their lab interface, host0: a VIP's holders. More than
 * one means a split (two keepalived masters, or a host cut off that kept it).
 */
export async function addressHolders(lab: Lab, address: string): Promise<string[]> {
  const found = await Promise.all(
    lab.hosts
      .filter((h) => h.running)
      .map(async (h) => {
        const r = await exec(lab, h.name, "ip -o -4 address show dev host0", { timeoutMs: 5000 });
        return r.stdout.includes(` ${address}/`) ? h.name : "";
      }),
  );
  return found.filter(Boolean);
}

/** Runs a command over SSH as root, with the lab key and the host key pinned. */
export async function ssh(
  lab: Lab,
  host: HostRef,
  cmd: string,
  opts: SshExecOptions = {},
): Promise<RunResult> {
  return sshExec(sshTarget(lab, host), cmd, opts);
}

/** What an SSH client needs to reach a host (ssh2 or @pulumi/command connection fields). */
export function sshTarget(lab: Lab, host: HostRef): SshTarget {
  const h = lab.hosts.find((x) => x.name === nameOf(host));
  if (!h) throw new Error(`lab ${lab.name} has no host ${nameOf(host)}`);
  return {
    address: h.address,
    hostKey: h.hostKey,
    privateKey: fs.readFileSync(lab.privateKeyPath, "utf8"),
    user: "root",
  };
}

/**
 * The hosts in the shape of the components' HostArgs (components/hosts.ts): name, address, and a
 * connection with the private key and the pinned host key.
 */
export function hostArgs(lab: Lab) {
  const privateKey = fs.readFileSync(lab.privateKeyPath, "utf8");
  return lab.hosts.map((h) => ({
    name: h.name,
    address: h.address,
    connection: { host: h.address, user: "root", privateKey, hostKey: h.hostKey },
  }));
}
