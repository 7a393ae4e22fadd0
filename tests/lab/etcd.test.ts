/**
 * EtcdCluster on real etcd (Debian's 3.4.23, installed through the component's `release` path from the
 * lab's local release server) on real lab hosts, deployed with the lab runner. Faults are real: hosts are
 * powered off (their init killed), not mocked. Steps build on each other, in order.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { deployEtcd, EtcdDeployResult, runnerStatePath } from "../../lab/deploy";
import { endpointStatus, etcdctl } from "../../lab/etcdctl";
import { destroyLab, exec, Lab, powerOff, powerOn, ssh } from "../../lab/hosts";
import { readState } from "../../lab/runner";
import { Etcd, foreignClient, httpsGet, waitFor, Writer } from "./helpers";
import { LAB_NAMES, LAB_SUBNETS } from "../../lab/hosts/subnets";

const LAB = LAB_NAMES.etcdTest;
const SUBNET = LAB_SUBNETS.etcdTest;
const log = process.env.LAB_VERBOSE ? (l: string) => console.log(`      ${l}`) : undefined;

describe("EtcdCluster on real etcd (lab)", function () {
  this.timeout(300_000);
  let result: EtcdDeployResult;
  let lab: Lab;
  let etcd: Etcd;
  const figures: Record<string, number> = {};
  /** m5's configure and member steps as the grow step ran them (their create, delete and stdin). */
  let m5Steps: Record<"configure" | "member", Record<string, string>> | undefined;

  const up = async (opts: { members?: number; memberNames?: string[]; ensureHosts?: boolean }) => {
    const t0 = Date.now();
    result = await deployEtcd({ lab: LAB, subnetIndex: SUBNET, log, ...opts });
    lab = result.lab;
    etcd = new Etcd(result.files, result.endpoints);
    return Date.now() - t0;
  };
  const endpointOf = (host: string) => `https://${lab.hosts.find((h) => h.name === host)!.address}:2379`;
  const hostOf = (endpoint: string) => lab.hosts.find((h) => endpoint.includes(`//${h.address}:`))!.name;
  const etcdPid = async (host: string) =>
    (await exec(lab, host, "systemctl show -p MainPID --value etcd")).stdout.trim();
  const allHealthy = async () => (await endpointStatus(result.files, etcd.endpoints)).every((s) => s.healthy);
  const leader = async () =>
    (await endpointStatus(result.files, etcd.endpoints)).find((s) => s.leader)?.endpoint;

  before(async function () {
    this.timeout(600_000);
    await destroyLab(LAB); // leftovers of an interrupted run
  });
  after(async function () {
    this.timeout(120_000);
    await destroyLab(LAB);
    if (Object.keys(figures).length > 0) console.log(`      lab figures (ms): ${JSON.stringify(figures)}`);
  });

  it("forms a 3-member cluster with mutual TLS; put and get work through every member", async () => {
    const t0 = Date.now();
    await up({ members: 3 });
    figures.deploy3 = Date.now() - t0;
    assert.deepEqual(result.members, ["m1", "m2", "m3"]);
    assert.ok(await allHealthy());
    for (const [i, ep] of etcd.endpoints.entries())
      await etcd.mustPut(`formed/${i}`, `via-${hostOf(ep)}`, [ep]);
    for (const ep of etcd.endpoints) {
      for (let i = 0; i < 3; i++) assert.equal(await etcd.get(`formed/${i}`, [ep]), `via-m${i + 1}`);
    }
    assert.equal(fs.statSync(result.files.key).mode & 0o777, 0o600);
  });

  it("refuses clients without a certificate or with one from another CA, on client and peer ports", async () => {
    const intruder = await foreignClient();
    for (const host of ["m1", "m2"]) {
      const addr = lab.hosts.find((h) => h.name === host)!.address;
      for (const port of [2379, 2380]) {
        const url = `https://${addr}:${port}/version`;
        const good = await httpsGet(url, { ca: result.pem.ca, cert: result.pem.cert, key: result.pem.key });
        assert.equal(good.status, 200, `${url} with the cluster's client certificate: ${good.error}`);
        const none = await httpsGet(url, { ca: result.pem.ca });
        assert.equal(none.status, undefined, `${url} answered a client without a certificate`);
        const foreign = await httpsGet(url, { ca: result.pem.ca, cert: intruder.cert, key: intruder.key });
        assert.equal(foreign.status, undefined, `${url} answered a certificate from another CA`);
      }
    }
    const plain = await httpsGet(`https://${lab.hosts[0].address}:2379/version`, { ca: intruder.ca });
    assert.ok(plain.error, "the server certificate must not verify against another CA");
  });

  it("a second run of the unchanged program runs no command", async () => {
    await up({ members: 3 });
    assert.equal(result.summary.commandsRun, 0);
    assert.deepEqual([result.summary.created, result.summary.updated, result.summary.deleted], [[], [], []]);
  });

  it("re-running every create script on a healthy member changes nothing", async () => {
    const state = readState(runnerStatePath(lab))!;
    const pidBefore = await etcdPid("m2");
    const membersBefore = await etcd.members();
    for (const step of ["install", "upgrade", "configure", "member"]) {
      const rec = Object.values(state.resources).find((r) => r.name === `etcd-m2-${step}`)!;
      const r = await ssh(lab, "m2", String(rec.inputs.create), {
        input: String(rec.inputs.stdin ?? ""),
        timeoutMs: 120_000,
      });
      assert.equal(r.code, 0, `${step}: ${r.stderr}`);
      const expected = {
        install: /already installed/,
        upgrade: /etcd [\d.]+ is installed and running: nothing to upgrade/,
        configure: /configuration is unchanged/,
        member: /already initialized/,
      };
      assert.match(r.stdout, expected[step as keyof typeof expected], `${step} must see nothing to do`);
      assert.doesNotMatch(r.stdout, /wrote /, `${step} must write nothing`);
    }
    assert.equal(await etcdPid("m2"), pidBefore, "etcd must not have been restarted");
    assert.deepEqual(await etcd.members(), membersBefore);
    assert.ok(await allHealthy());
  });

  it("survives the leader's death and lets it catch up when it returns", async () => {
    const leaderEp = (await leader())!;
    const dead = hostOf(leaderEp);
    const survivors = etcd.endpoints.filter((e) => e !== leaderEp);
    const t0 = Date.now();
    await powerOff(lab, dead);
    await waitFor(
      "a write through the survivors",
      30_000,
      async () => (await etcd.put("after-leader-death", "1", survivors, "2s")).code === 0,
      50,
    );
    figures.writeGapAfterLeaderDeath = Date.now() - t0;
    assert.ok(
      figures.writeGapAfterLeaderDeath < 20_000,
      `writes resumed only after ${figures.writeGapAfterLeaderDeath} ms`,
    );
    await powerOn(lab, dead);
    await waitFor(
      `${dead} to catch up`,
      60_000,
      async () => (await etcd.get("after-leader-death", [leaderEp], true)) === "1",
    );
    await waitFor("all members healthy", 60_000, allHealthy);
    assert.equal(await etcd.get("formed/0", [leaderEp], true), "via-m1");
  });

  it("refuses writes without quorum, and keeps every key once members return", async () => {
    await etcd.mustPut("before-quorum-loss", "kept");
    const [keep, ...down] = ["m1", "m2", "m3"];
    for (const h of down) await powerOff(lab, h);
    const r = await etcd.put("without-quorum", "x", [endpointOf(keep)], "3s");
    assert.notEqual(r.code, 0, "a write without quorum must fail");
    assert.match(r.stderr, /context deadline exceeded|request timed out/);
    for (const h of down) await powerOn(lab, h);
    await waitFor("all members healthy", 90_000, allHealthy);
    assert.equal(await etcd.get("before-quorum-loss"), "kept");
    assert.equal(await etcd.get("after-leader-death"), "1");
    assert.equal(await etcd.get("without-quorum"), undefined);
  });

  it("grows 3 -> 5 one learner at a time, without restarting the existing members", async () => {
    const pids = Object.fromEntries(
      await Promise.all(["m1", "m2", "m3"].map(async (h) => [h, await etcdPid(h)])),
    );
    const writer = new Writer(etcd, "grow").start();
    figures.join2 = await up({ members: 5 });
    const w = await writer.stop();
    assert.deepEqual(result.members, ["m1", "m2", "m3", "m4", "m5"]);
    const members = await etcd.members();
    assert.deepEqual(members.map((m) => m.name).sort(), ["m1", "m2", "m3", "m4", "m5"]);
    assert.ok(members.every((m) => m.status === "started" && !m.learner));
    for (const h of ["m1", "m2", "m3"]) assert.equal(await etcdPid(h), pids[h], `${h} was restarted`);
    assert.ok(
      w.longestFailureMs < 3000,
      `writes failed for ${w.longestFailureMs} ms during the join: ${w.errors}`,
    );
    assert.equal(await etcd.get("before-quorum-loss"), "kept");
    assert.ok(w.ok > 0);
    for (const k of w.writtenKeys.slice(-3)) assert.ok(await etcd.get(k), `${k} lost`);
    const state = readState(runnerStatePath(lab))!;
    const inputs = (step: string) =>
      Object.values(state.resources).find((r) => r.name === `etcd-m5-${step}`)!.inputs as Record<
        string,
        string
      >;
    m5Steps = { configure: inputs("configure"), member: inputs("member") };
  });

  it("a 5-member cluster keeps accepting writes with two members down", async () => {
    const leaderHost = hostOf((await leader())!);
    const down = ["m2", "m3", "m4", "m5"].filter((h) => h !== leaderHost).slice(0, 2);
    for (const h of down) await powerOff(lab, h);
    const alive = etcd.endpoints.filter((e) => !down.includes(hostOf(e)));
    await waitFor(
      "a write with two of five down",
      30_000,
      async () => (await etcd.put("two-down", "ok", alive, "3s")).code === 0,
    );
    assert.equal(await etcd.get("two-down", alive), "ok");
    for (const h of down) await powerOn(lab, h);
    await waitFor("all five healthy", 90_000, allHealthy);
  });

  it("shrinks 5 -> 3 with member remove before stop, keeping quorum and every key", async () => {
    // m5 leads when it is removed (its delete step first, as the program runs it): it hands leadership
    // to a healthy voter before `member remove`, so the others wait out no election timeout.
    assert.ok(m5Steps, "the grow step did not run");
    const m5 = (await etcd.members()).find((m) => m.name === "m5")!;
    const current = (await leader())!;
    if (hostOf(current) !== "m5") {
      const moved = await etcdctl(["move-leader", m5.id], { files: result.files, endpoints: [current] });
      assert.equal(moved.code, 0, moved.stderr);
    }
    await waitFor("m5 to lead", 15_000, async () => hostOf((await leader()) ?? "") === "m5");
    // Writes through the members that stay, every 200 ms: the longest time between two acks is a figure.
    const stay = new Etcd(
      result.files,
      etcd.endpoints.filter((e) => hostOf(e) !== "m5"),
    );
    const leaderWriter = new Writer(stay, "leader-removal").start();
    await waitFor("a write", 10_000, async () => (await stay.put("leader-removal-start", "1")).code === 0);
    const removal = await ssh(lab, "m5", m5Steps.member.delete, {
      input: m5Steps.member.stdin,
      timeoutMs: 120_000,
    });
    assert.equal(removal.code, 0, removal.stderr);
    assert.match(removal.stdout + removal.stderr, /handed leadership to m[1-4] before the removal/);
    await waitFor(
      "a write after the removal",
      30_000,
      async () => (await stay.put("leader-removal-end", "1")).code === 0,
    );
    figures.leaderRemovalWriteGap = (await leaderWriter.stop()).longestGapMs;
    const writer = new Writer(etcd, "shrink").start();
    await up({ members: 3 });
    const w = await writer.stop();
    assert.deepEqual((await etcd.members()).map((m) => m.name).sort(), ["m1", "m2", "m3"]);
    for (const h of ["m4", "m5"]) {
      const r = await exec(
        lab,
        h,
        "systemctl is-active etcd; test -d /var/lib/etcd/member && echo data-left || echo no-data",
      );
      assert.match(r.stdout, /inactive|failed/, `${h}: etcd still running`);
      assert.match(r.stdout, /no-data/, `${h}: data left behind`);
    }
    assert.ok(
      w.longestFailureMs < 3000,
      `writes failed for ${w.longestFailureMs} ms during the removal: ${w.errors}`,
    );
    assert.equal(await etcd.get("two-down"), "ok");
    assert.ok(await allHealthy());
  });

  it("refuses a removal that would lose quorum, before touching the cluster", async () => {
    // The delete step of m3's member resource, run while m2 is down: removing m3 would leave m1 alone
    // in a 2-member cluster that needs both.
    const state = readState(runnerStatePath(lab))!;
    const removeScript = String(
      Object.values(state.resources).find((r) => r.name === "etcd-m3-member")!.inputs.delete,
    );
    await powerOff(lab, "m2");
    try {
      // m1 and m3 keep quorum; if m2 led, they elect a leader first (slower on a loaded machine), and
      // until then the script finds no healthy member and refuses for that reason instead.
      const m2 = lab.hosts.find((h) => h.name === "m2")!.address;
      const others = etcd.endpoints.filter((e) => !e.includes(`//${m2}:`));
      await waitFor("m1 and m3 healthy without m2", 30_000, async () =>
        (await endpointStatus(result.files, others)).every((st) => st.healthy),
      );
      const r = await ssh(lab, "m3", removeScript, { timeoutMs: 120_000 });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /refusing to remove m3: 2 voting members need a quorum of 2, but only 1 of the others are healthy; bring the other members back first/,
      );
      assert.equal((await exec(lab, "m3", "systemctl is-active etcd")).stdout.trim(), "active");
    } finally {
      await powerOn(lab, "m2");
    }
    await waitFor("all three healthy", 90_000, allHealthy);
    assert.deepEqual((await etcd.members()).map((m) => m.name).sort(), ["m1", "m2", "m3"]);
  });

  it("never bootstraps a second cluster beside one without quorum: a new member's first start refuses", async () => {
    // m5's first start as the grow step ran it (m5 left again in the shrink: no etcd running, no data),
    // while m1 alone answers: it lists the started members but has no quorum (m2 and m3 off). Before,
    // the member found no healthy member and bootstrapped a new cluster from its roster.
    assert.ok(m5Steps, "the grow step did not run");
    const steps = m5Steps;
    const run = (step: "configure" | "member", cmd = steps[step].create) =>
      ssh(lab, "m5", cmd, { input: steps[step].stdin, timeoutMs: 120_000 });
    assert.equal((await run("configure")).code, 0);
    const down = ["m2", "m3"];
    for (const h of down) await powerOff(lab, h);
    try {
      const r = await run("member");
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /refusing to start m5: the other members already form a cluster, but none of them is healthy/,
      );
      const after = await exec(
        lab,
        "m5",
        "systemctl is-active etcd || true; test -d /var/lib/etcd/member && echo data-left || echo no-data",
      );
      assert.doesNotMatch(after.stdout, /^active$/m, "etcd runs on m5");
      assert.match(after.stdout, /no-data/, "m5 has etcd data");
    } finally {
      for (const h of down) await powerOn(lab, h);
      await run("member", steps.member.delete);
      await run("configure", steps.configure.delete);
    }
    await waitFor("all three healthy", 90_000, allHealthy);
    assert.deepEqual((await etcd.members()).map((m) => m.name).sort(), ["m1", "m2", "m3"]);
  });

  it("replaces a member: remove it, then add a new host", async () => {
    await up({ memberNames: ["m1", "m2"] });
    assert.deepEqual((await etcd.members()).map((m) => m.name).sort(), ["m1", "m2"]);
    await up({ memberNames: ["m1", "m2", "m6"] });
    assert.deepEqual((await etcd.members()).map((m) => m.name).sort(), ["m1", "m2", "m6"]);
    assert.ok(await allHealthy());
    for (const k of ["formed/2", "before-quorum-loss", "two-down"])
      assert.ok(await etcd.get(k, [endpointOf("m6")], true), `${k} missing on m6`);
  });
});
