/**
 * The shared package shell (components/packages.ts) on a real Debian host with real apt, while another
 * apt holds apt's locks, as cloud-init and unattended-upgrades do on a freshly booted cloud instance.
 * The packages come from the lab's offline repository (the host has no route out).
 */
import { strict as assert } from "node:assert";
import { SH_INSTALL_PACKAGES } from "../../components/packages";
import { shFunctions } from "../../components/shell";
import { createLab, destroyLab, exec, Lab } from "../../lab/hosts";
import { waitFor } from "./helpers";
import { LAB_NAMES, LAB_SUBNETS } from "../../lab/hosts/subnets";

const LAB = LAB_NAMES.packagesTest;
const SUBNET = LAB_SUBNETS.packagesTest;
const HOLD_SECONDS = 6;

describe("package installs on a real host while another apt holds the lock (lab)", function () {
  this.timeout(300_000);
  let lab: Lab;
  const sh = (cmd: string, timeoutMs = 120_000) => exec(lab, "m1", cmd, { timeoutMs });
  const installScript = (pkgs: string) =>
    ["set -eu", shFunctions("test"), SH_INSTALL_PACKAGES, `install_packages ${pkgs}`].join("\n");

  /** Another apt, in the background, that holds its lock for HOLD_SECONDS (its hook sleeps). */
  const holdLock = async (aptArgs: string) => {
    // In its own session, so that the end of this SSH command does not end it.
    await sh(`rm -f /run/holder.*
cat > /run/holder.sh <<'HOLDER'
apt-get ${aptArgs} >/run/holder.log 2>&1
echo $? >/run/holder.rc
HOLDER
setsid -f sh /run/holder.sh </dev/null >/dev/null 2>&1`);
    await waitFor(
      "the other apt to hold its lock",
      30_000,
      async () =>
        // apt runs its hook with sh -c; the [k] keeps this probe's own shell from matching.
        (
          await sh("pgrep -f '^(/bin/)?sh -c sleep [0-9]+ # hakube-hold-loc[k]' >/dev/null && echo held")
        ).stdout.includes("held"),
      100,
    );
  };
  const holderRc = () =>
    waitFor("the other apt to end", 60_000, async () => {
      const r = await sh("cat /run/holder.rc 2>/dev/null");
      return r.stdout.trim() === "" ? undefined : r.stdout.trim();
    });

  before(async function () {
    this.timeout(600_000);
    await destroyLab(LAB);
    lab = await createLab({ name: LAB, subnetIndex: SUBNET, hosts: 1 });
  });
  after(async function () {
    this.timeout(120_000);
    await destroyLab(LAB);
  });

  it("waits for dpkg's lock instead of failing, installs, and starts no service", async () => {
    const hook = `-o DPkg::Pre-Invoke::='sleep ${HOLD_SECONDS} # hakube-hold-lock'`;
    await holdLock(`-q -y ${hook} install haproxy`);
    // The control: a plain apt-get fails at once while the lock is held (so the lock is really held).
    const plain = await sh("apt-get -q -y install keepalived 2>&1; echo rc=$?");
    assert.match(plain.stdout, /Could not get lock|Unable to acquire the dpkg frontend lock/);
    assert.match(plain.stdout, /rc=100/);

    const t0 = Date.now();
    const r = await sh(installScript("keepalived"));
    const waited = Date.now() - t0;
    assert.equal(r.code, 0, `install_packages failed: ${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /installed keepalived with apt-get/);
    assert.ok(waited >= 1000, `it cannot have waited for the lock: done after ${waited} ms`);
    assert.equal(await holderRc(), "0", "the other apt finished its own install");
    const state = await sh(
      "dpkg-query -W -f='${Status}' keepalived; echo; test -e /usr/sbin/policy-rc.d && echo guard-left; systemctl is-active keepalived || true",
    );
    assert.match(state.stdout, /install ok installed/);
    assert.doesNotMatch(state.stdout, /guard-left/, "the policy-rc.d guard was removed");
    assert.match(state.stdout, /inactive|failed/, "the package's maintainer scripts started no keepalived");
  });

  it("waits for the package lists' lock (apt-get update) and retries, instead of failing", async () => {
    await sh("apt-get -q -y purge keepalived >/dev/null 2>&1; rm -rf /var/lib/apt/lists/*");
    await holdLock(`-q -o APT::Update::Pre-Invoke::='sleep ${HOLD_SECONDS} # hakube-hold-lock' update`);
    const plain = await sh("apt-get -q update 2>&1; echo rc=$?");
    assert.match(plain.stdout, /Could not get lock|Unable to lock/, plain.stdout);

    // With no package lists, the first install fails; the update then meets the other apt's lock.
    const r = await sh(installScript("keepalived"));
    assert.equal(r.code, 0, `install_packages failed: ${r.stderr}${r.stdout}`);
    assert.match(r.stderr, /another package manager holds apt's lock; waiting for it/);
    assert.equal(await holderRc(), "0");
    assert.match((await sh("dpkg-query -W -f='${Status}' keepalived")).stdout, /install ok installed/);
  });
});
