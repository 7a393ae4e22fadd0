import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  addHosts,
  createLab,
  destroyLab,
  exec,
  Lab,
  linkDown,
  linkUp,
  loadLab,
  powerOff,
  powerOn,
  removeHost,
  ssh,
  sshExec,
} from "../../lab/hosts";
import { systemdCgroupRoots } from "../../lab/hosts/cgroups";
import { mountsUnder } from "../../lab/hosts/mounts";
import { labDir } from "../../lab/hosts/paths";
import { allPids, cmdlineOf, run, waitFor } from "../../lab/hosts/run";
import { LAB_NAMES, LAB_SUBNETS } from "../../lab/hosts/subnets";

/**
 * Real hosts on this machine (root, systemd-nspawn). Subnet index 9 so that this lab never collides
 * with `npm run lab`'s lab "lab" (index 0). Every fault a test injects is undone in afterEach, and the
 * lab is destroyed in after() even when an assertion failed.
 */
const NAME = LAB_NAMES.hostsTest;
const SUBNET_INDEX = LAB_SUBNETS.hostsTest;

const log = (msg: string) => console.log(`      ${msg}`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("lab hosts (systemd-nspawn on a private bridge)", function () {
  this.timeout(600_000);
  let lab: Lab;

  before(async () => {
    await destroyLab(NAME); // leftovers of an earlier run that was killed
    const t0 = Date.now();
    lab = await createLab({ name: NAME, hosts: 2, subnetIndex: SUBNET_INDEX, log });
    log(`createLab: ${secs(Date.now() - t0)}`);
  });

  afterEach(async () => {
    // Undo a fault left by a failed test, so that the next tests start from a healthy lab.
    const current = await loadLab(NAME);
    if (!current) return;
    for (const h of current.hosts) {
      if (h.linkDown) await linkUp(current, h.name);
      if (!h.running) await powerOn(current, h.name, log);
    }
  });

  after(async () => {
    await destroyLab(NAME, log);
  });

  const m = (i: number) => lab.hosts[i];

  it("has two hosts named m1 and m2 on 10.77.9.11 and .12", () => {
    assert.deepEqual(
      lab.hosts.map((h) => [h.name, h.address]),
      [
        ["m1", "10.77.9.11"],
        ["m2", "10.77.9.12"],
      ],
    );
    assert.equal(lab.gateway, "10.77.9.1");
    assert.equal(fs.statSync(path.join(lab.dir, "state.json")).mode & 0o777, 0o600);
  });

  it("each host answers SSH with the lab key and presents exactly its recorded host key", async () => {
    for (const h of lab.hosts) {
      const r = await ssh(lab, h.name, "hostname; id -u");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${h.name}\n0\n`);
    }
    const privateKey = fs.readFileSync(lab.privateKeyPath, "utf8");
    // m1 pinned to m2's key: refused.
    await assert.rejects(
      sshExec({ address: m(0).address, hostKey: m(1).hostKey, privateKey }, "true", { timeoutMs: 5000 }),
      /host key differs|verification failed/i,
    );
  });

  it("each host boots cleanly in its own cgroup (no unit of one host touches another's)", async () => {
    for (const h of lab.hosts) {
      const state = await ssh(lab, h.name, "systemctl is-system-running; systemctl --failed --no-legend");
      assert.equal(state.stdout, "running\n", `${h.name}: ${state.stdout}`);
      const cgroup = fs.readFileSync(`/proc/${h.pid}/cgroup`, "utf8");
      assert.match(cgroup, new RegExp(`/hakube-lab/hk${SUBNET_INDEX}-${h.name}/payload/`));
    }
  });

  it("refuses a client key other than the lab's", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hakube-lab-key-"));
    try {
      await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(tmp, "k")]);
      const privateKey = fs.readFileSync(path.join(tmp, "k"), "utf8");
      await assert.rejects(
        sshExec({ address: m(0).address, hostKey: m(0).hostKey, privateKey }, "true", { timeoutMs: 5000 }),
        /authentication/i,
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("hosts have different host keys, all ed25519", () => {
    const keys = lab.hosts.map((h) => h.hostKey);
    assert.equal(new Set(keys).size, keys.length);
    for (const k of keys) assert.match(k, /^ssh-ed25519 AAAA[0-9A-Za-z+/=]+$/);
  });

  it("a host reaches the other host but has no route out of the subnet", async () => {
    const ping = await ssh(lab, "m1", `ping -c1 -W2 ${m(1).address} && ping -c1 -W2 m2`);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const routes = await exec(lab, "m1", "ip -4 route show default; ip -6 route show default");
    assert.equal(routes.stdout.trim(), "", "no default route");
    // `ip route get` only asks the kernel: no packet leaves.
    for (const dst of ["1.1.1.1", "192.0.2.1", "2606:4700:4700::1111"]) {
      const r = await exec(lab, "m1", `ip route get ${dst}`);
      assert.notEqual(r.code, 0, `route to ${dst}: ${r.stdout}`);
      assert.match(r.stderr, /unreachable/i);
    }
    assert.equal(fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(), "0");
    // The machine's kernel command line (ip=...) must not configure a host's network.
    const generator = await exec(lab, "m1", "systemctl is-enabled systemd-network-generator.service");
    assert.equal(generator.stdout.trim(), "masked");
  });

  it("apt installs the packages offline from the host's local repository", async () => {
    const sources = await exec(lab, "m2", "cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null");
    assert.doesNotMatch(sources.stdout, /https?:\/\//, "no network source");
    const notInstalled = await exec(lab, "m2", "dpkg -s etcd-server keepalived haproxy 2>&1");
    assert.notEqual(notInstalled.code, 0, "the rootfs must not preinstall the components' packages");

    const update = await exec(lab, "m2", "apt-get update");
    assert.equal(update.code, 0, update.stdout + update.stderr);
    assert.doesNotMatch(update.stdout + update.stderr, /https?:\/\//);
    // Everything the components install resolves, with no URI outside the host.
    const sim = await exec(lab, "m2", "apt-get install -s -y etcd-server etcd-client keepalived haproxy");
    assert.equal(sim.code, 0, sim.stdout + sim.stderr);
    const uris = await exec(lab, "m2", "apt-get install --print-uris -qq -y etcd-server keepalived haproxy");
    assert.equal(uris.code, 0, uris.stderr);
    assert.doesNotMatch(uris.stdout, /https?:\/\//);

    const install = await exec(
      lab,
      "m2",
      "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download etcd-client",
    );
    assert.equal(install.code, 0, install.stdout + install.stderr);
    const version = await ssh(lab, "m2", "ETCDCTL_API=3 etcdctl version");
    assert.match(version.stdout, /etcdctl version: 3\.4\.23/);
    const remove = await exec(lab, "m2", "apt-get remove -y etcd-client");
    assert.equal(remove.code, 0, remove.stdout + remove.stderr);
    assert.notEqual((await exec(lab, "m2", "command -v etcdctl")).code, 0);
  });

  it("serves the etcd release tarball on the gateway, with the recorded sha256", async () => {
    const rel = lab.etcdRelease;
    assert.equal(rel.version, "v3.4.23");
    assert.equal(rel.url, `${lab.releaseBaseUrl}/v3.4.23/etcd-v3.4.23-linux-amd64.tar.gz`);
    const r = await ssh(
      lab,
      "m1",
      `curl -fsS -o /root/etcd.tgz ${rel.url} && sha256sum /root/etcd.tgz && tar tzf /root/etcd.tgz && rm /root/etcd.tgz`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split(/\s+/)[0], rel.sha256);
    assert.match(r.stdout, /^etcd-v3\.4\.23-linux-amd64\/etcd$/m);
    assert.match(r.stdout, /^etcd-v3\.4\.23-linux-amd64\/etcdctl$/m);
    // Bound to the gateway address only.
    const local = await run("curl", ["-sS", "-m", "2", "http://127.0.0.1:8780/"], { allowFail: true });
    assert.notEqual(local.code, 0);
  });

  it("powerOff cuts a host's power and powerOn boots it again with its disk and identity", async () => {
    assert.equal((await ssh(lab, "m1", "echo kept > /root/marker")).code, 0);
    const hostKey = m(0).hostKey;
    let t0 = Date.now();
    await powerOff(lab, "m1");
    log(`powerOff: ${secs(Date.now() - t0)}`);
    assert.equal(m(0).running, false);
    await assert.rejects(ssh(lab, "m1", "true", { timeoutMs: 3000 }));
    assert.equal((await ssh(lab, "m2", "hostname")).stdout, "m2\n", "the other host is unaffected");

    t0 = Date.now();
    await powerOn(lab, "m1", log);
    log(`powerOn: ${secs(Date.now() - t0)}`);
    assert.equal(m(0).running, true);
    assert.equal(m(0).hostKey, hostKey);
    assert.equal((await ssh(lab, "m1", "cat /root/marker")).stdout, "kept\n");
  });

  it("linkDown makes a host unreachable while it runs, linkUp restores it", async () => {
    await linkDown(lab, "m2");
    assert.equal(m(1).linkDown, true);
    await assert.rejects(ssh(lab, "m2", "true", { timeoutMs: 3000 }));
    const fromM1 = await ssh(lab, "m1", `ping -c1 -W1 ${m(1).address}`);
    assert.notEqual(fromM1.code, 0, "m1 must not reach m2");
    const inside = await exec(lab, "m2", "ip -br addr show host0");
    assert.match(inside.stdout, /DOWN|LOWERLAYERDOWN/);
    assert.match(inside.stdout, /10\.77\.9\.12\/24/, "the static address survives the cut");

    await linkUp(lab, "m2");
    assert.equal(m(1).linkDown, false);
    const back = await waitFor(
      "m2 over SSH",
      async () => (await ssh(lab, "m2", "hostname", { timeoutMs: 3000 })).stdout,
      20_000,
    );
    assert.equal(back, "m2\n");
  });

  it("addHosts grows the lab and removeHost shrinks it, keeping /etc/hosts current", async () => {
    const [m3] = await addHosts(lab, 1, log);
    assert.equal(m3.name, "m3");
    assert.equal(m3.address, "10.77.9.13");
    assert.equal((await ssh(lab, "m3", "hostname")).stdout, "m3\n");
    assert.equal((await ssh(lab, "m1", "ping -c1 -W2 m3")).code, 0);
    await removeHost(lab, "m3", log);
    assert.deepEqual(
      lab.hosts.map((h) => h.name),
      ["m1", "m2"],
    );
    assert.doesNotMatch((await ssh(lab, "m1", "cat /etc/hosts")).stdout, /m3/);
    assert.equal(fs.existsSync(path.join(lab.dir, "hosts", "m3")), false);
  });

  it("createLab a second time keeps the running hosts and is fast", async () => {
    const before = lab.hosts.map((h) => [h.pid, h.hostKey]);
    const t0 = Date.now();
    const again = await createLab({ name: NAME, hosts: 2, subnetIndex: SUBNET_INDEX });
    const took = Date.now() - t0;
    log(`second createLab: ${secs(took)}`);
    assert.ok(took < 10_000, `took ${took} ms`);
    assert.deepEqual(
      again.hosts.map((h) => [h.pid, h.hostKey]),
      before,
    );
    await assert.rejects(createLab({ name: NAME, hosts: 2, subnetIndex: SUBNET_INDEX + 1 }), /subnetIndex/);
  });

  it("destroyLab leaves nothing behind", async () => {
    const hostPidNamespaces = lab.hosts.map((h) => pidNamespaceOf(h.pid ?? -1));
    assert.ok(hostPidNamespaces.every((ns) => ns !== undefined && ns !== pidNamespaceOf(process.pid)));
    const t0 = Date.now();
    await destroyLab(NAME);
    log(`destroyLab: ${secs(Date.now() - t0)}`);
    assert.equal(await loadLab(NAME), undefined);
    assert.equal(fs.existsSync(labDir(NAME)), false, "lab folder");
    assert.deepEqual(mountsUnder(labDir(NAME)), [], "mounts");
    const links = (await run("ip", ["-br", "link"])).stdout;
    assert.doesNotMatch(links, new RegExp(`^(${lab.bridge}|vb-hk${SUBNET_INDEX}-)`, "m"), "bridge and veths");
    const addrs = (await run("ip", ["-br", "addr"])).stdout;
    assert.doesNotMatch(addrs, /10\.77\.9\./, "no address of the lab subnet");
    const netns = (await run("ip", ["netns", "list"])).stdout;
    assert.doesNotMatch(netns, /t-hosts|hk9/, "network namespaces");
    assert.deepEqual(ourProcesses(), [], "nspawn and release server processes");
    assert.deepEqual(leftCgroups(), [], "cgroups of the hosts");
    const inHosts = allPids().filter((pid) => hostPidNamespaces.includes(pidNamespaceOf(pid)));
    assert.deepEqual(inHosts, [], "processes inside the hosts");
  });

  it("destroyLab cleans up after a crash that lost the state file", async () => {
    const crashed = await createLab({ name: NAME, hosts: 1, subnetIndex: SUBNET_INDEX });
    const pidNs = pidNamespaceOf(crashed.hosts[0].pid ?? -1);
    fs.rmSync(path.join(crashed.dir, "state.json")); // as if createLab died before saving anything
    await destroyLab(NAME);
    assert.equal(fs.existsSync(labDir(NAME)), false);
    assert.deepEqual(mountsUnder(labDir(NAME)), []);
    assert.doesNotMatch((await run("ip", ["-br", "link"])).stdout, new RegExp(`^${crashed.bridge}`, "m"));
    assert.deepEqual(ourProcesses(), []);
    assert.deepEqual(leftCgroups(), []);
    assert.deepEqual(
      allPids().filter((pid) => pidNamespaceOf(pid) === pidNs),
      [],
    );
  });
});

/** The hosts' cgroups (hakube-lab/hk9-*) still present in any hierarchy. */
function leftCgroups(): string[] {
  return systemdCgroupRoots().flatMap((root) => {
    const dir = path.join(root, "hakube-lab");
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => d.startsWith(`hk${SUBNET_INDEX}-`)) : [];
  });
}

function pidNamespaceOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) processes that mention this lab's folder or run inside one of its hosts. */
function ourProcesses(): string[] {
  const dir = labDir(NAME);
  return allPids()
    .map((pid) => ({ pid, argv: cmdlineOf(pid) }))
    .filter(({ argv }) => argv !== undefined && argv.some((a) => a.includes(dir)))
    .map(({ pid, argv }) => `${pid} ${argv?.join(" ")}`);
}
