/** Faults the tests inject: a power cut and a cut cable, and their repair. */
import { isRunning, killContainer } from "./host";
import { setVeth } from "./network";
import { ensureRegistryCa } from "./registry";
import { Log, silent } from "./run";
import { hostState, writeState } from "./state";
import { bootHost, ensureKeyPair, waitForVeth } from "./boot";
import { mustReadState, nameOf, prefixed, sync, withLabLock } from "./labState";
import type { HostRef, Lab } from "./labTypes";

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
