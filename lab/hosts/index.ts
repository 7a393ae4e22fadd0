/**
 * The lab's hosts: Debian machines with their own systemd, file system, SSH host key and address, as
 * systemd-nspawn containers on a private bridge of this machine (no route out). Run as root with tsx.
 *
 *   const lab = await createLab({ name: "lab", hosts: 3, log: console.log });
 *   await ssh(lab, "m1", "hostname");
 *   await powerOff(lab, "m1"); await powerOn(lab, "m1");
 *   await destroyLab("lab");
 */
export { addHosts, createLab, destroyAllLabs, destroyLab, listLabNames, loadLab, removeHost } from "./lab";
export { linkDown, linkUp, powerOff, powerOn } from "./faults";
export { addressHolders, exec, hostArgs, ssh, sshTarget } from "./access";
export type { CreateLabOptions, EtcdRelease, Lab, LabHost, LabKubernetes } from "./lab";
export { ensurePrerequisites } from "./prereqs";
export { ensureRootfs, OFFLINE_PACKAGES } from "./rootfs";
export { sshConnect, sshExec } from "./ssh";
export type { SshExecOptions, SshTarget } from "./ssh";
export type { Log, RunResult } from "./run";
