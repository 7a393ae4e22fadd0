/**
 * EtcdCluster's rolling upgrade on real etcd and real lab hosts: from Debian bookworm's etcd 3.4.23 (the
 * lab's release) to trixie's 3.5.16 (its packages repacked as a release tarball on the lab's release
 * server) under a continuous write load. One member at a time in member order, the leader last, no
 * acknowledged write lost; the longest write gap is printed as a lab figure. A skipped minor and a
 * downgrade are refused before anything changes. Steps build on each other.
 */
import { strict as assert } from "node:assert";
import { deployEtcd, EtcdDeployResult, stepStdout } from "../../lab/deploy";
import { endpointStatus, etcdctl } from "../../lab/etcdctl";
import { missingWrites } from "../../lab/etcdWrites";
import { createLab, destroyLab, exec, Lab } from "../../lab/hosts";
import { ensureTrixieEtcdTarball, publishTarball } from "../../lab/hosts/release";
import { LAB_NAMES, LAB_SUBNETS } from "../../lab/hosts/subnets";
import { ETCD_RELEASE_SHA256 } from "../../components/etcd/checksums";
import { Etcd, sleep, waitFor } from "./helpers";

const LAB = LAB_NAMES.etcdUpgradeTest;
const SUBNET = LAB_SUBNETS.etcdUpgradeTest;
const log = process.env.LAB_VERBOSE ? (l: string) => console.log(`      ${l}`) : undefined;
const MEMBERS = ["m1", "m2", "m3"];

/** One sample of every member: its version (undefined: not answering) and whether it leads. */
interface Sample {
  at: number;
  members: Array<{ version?: string; leader: boolean; healthy: boolean }>;
}

describe("EtcdCluster rolling upgrade 3.4 -> 3.5 on real etcd (lab)", function () {
  this.timeout(900_000);
  let lab: Lab;
  let result: EtcdDeployResult;
  let etcd: Etcd;
  let from: string;
  let to: { version: string; baseUrl: string; sha256: string };
  const figures: Record<string, number | string> = {};

  const sh = async (host: string, cmd: string) => {
    const r = await exec(lab, host, cmd, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  const versions = async () => (await endpointStatus(result.files, etcd.endpoints)).map((s) => s.version);
  const allHealthy = async () => (await endpointStatus(result.files, etcd.endpoints)).every((s) => s.healthy);
  /** The cluster version, from a member's /version (with its own server certificate). */
  const clusterVersion = async () =>
    /"etcdcluster":"([0-9.]+)"/.exec(
      await sh(
        "m1",
        "curl -s --cacert /etc/etcd/pki/ca.crt --cert /etc/etcd/pki/server.crt --key /etc/etcd/pki/server.key https://127.0.0.1:2379/version",
      ),
    )?.[1];

  before(async function () {
    await destroyLab(LAB); // leftovers of an interrupted run
    lab = await createLab({ name: LAB, hosts: 3, subnetIndex: SUBNET, log });
    const tarball = await ensureTrixieEtcdTarball(log ?? (() => undefined));
    publishTarball(LAB, tarball);
    to = { version: tarball.version, baseUrl: lab.releaseBaseUrl, sha256: tarball.sha256 };
    from = lab.etcdRelease.version;
    const t0 = Date.now();
    result = await deployEtcd({ lab: LAB, subnetIndex: SUBNET, members: 3, log });
    figures.deployMs = Date.now() - t0;
    etcd = new Etcd(result.files, result.endpoints);
  });
  after(async function () {
    this.timeout(120_000);
    await destroyLab(LAB);
    if (Object.keys(figures).length > 0) console.log(`      lab figures: ${JSON.stringify(figures)}`);
  });

  it("runs bookworm's etcd 3.4.23 on every member; the target is trixie's 3.5.16", async () => {
    assert.equal(from, "v3.4.23");
    assert.equal(to.version, "v3.5.16");
    assert.deepEqual(await versions(), ["3.4.23", "3.4.23", "3.4.23"]);
    // A new cluster says 3.0.0 until its leader raises the cluster version to the members' minor.
    await waitFor(
      "the cluster version 3.4.0",
      30_000,
      async () => (await clusterVersion()) === "3.4.0",
      1000,
    );
  });

  it("refuses a skipped minor (3.4 -> 3.6) before anything changes", async () => {
    for (let i = 0; i < 10; i++) await etcd.mustPut(`before/${i}`, `b${i}`);
    await assert.rejects(
      deployEtcd({
        lab: LAB,
        subnetIndex: SUBNET,
        members: 3,
        etcdRelease: {
          version: "3.6.5",
          baseUrl: lab.releaseBaseUrl,
          sha256: ETCD_RELEASE_SHA256.amd64["3.6.5"],
        },
        log,
      }),
      /refusing version 3\.6\.5: m\d runs etcd 3\.4\.23, and etcd upgrades one minor at a time; set version to a 3\.5 release first/,
    );
    assert.deepEqual(await versions(), ["3.4.23", "3.4.23", "3.4.23"]);
    for (const m of MEMBERS)
      assert.equal((await sh(m, "ls /var/lib/hakube/etcd-upgrade 2>/dev/null || true")).trim(), "");
    assert.ok(await allHealthy());
  });

  it("upgrades one member at a time, in member order, the leader last, without losing an acknowledged write", async () => {
    // The leader in the middle of the order (m1 leads after the bootstrap): m1 is upgraded as a
    // follower, m2 hands leadership to the last member (m3), which hands it to an upgraded one.
    const m2 = (await etcd.members()).find((m) => m.name === "m2")!;
    const leaderUrl = (await endpointStatus(result.files, etcd.endpoints)).find((s) => s.leader)!.endpoint;
    const moved = await etcdctl(["move-leader", m2.id], { files: result.files, endpoints: [leaderUrl] });
    assert.ok(moved.code === 0 || /already leader/i.test(moved.stderr), moved.stderr);
    await waitFor(
      "m2 to lead",
      10_000,
      async () => (await endpointStatus(result.files, etcd.endpoints))[1].leader,
    );
    figures.leaderBefore = "m2";
    // The write load: one write after another through every member's URL (etcdctl fails over), each
    // with a 2 s timeout; acknowledged ones are kept with the time of their acknowledgement.
    const acked: Array<{ key: string; value: string; at: number }> = [];
    let failed = 0;
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        const i = n++;
        const key = `load/${String(i).padStart(6, "0")}`;
        const r = await etcd.put(key, `v${i}`, etcd.endpoints, "2s");
        if (r.code === 0) acked.push({ key, value: `v${i}`, at: Date.now() });
        else failed++;
      }
    })();
    // Every member's version and leadership, sampled while the upgrade runs.
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const st = await endpointStatus(result.files, etcd.endpoints);
        samples.push({
          at: Date.now(),
          members: st.map((s) => ({ version: s.version, leader: s.leader, healthy: s.healthy })),
        });
        await sleep(250);
      }
    })();
    await waitFor("50 acknowledged writes", 60_000, async () => acked.length >= 50, 100);
    const t0 = Date.now();
    try {
      result = await deployEtcd({ lab: LAB, subnetIndex: SUBNET, members: 3, etcdRelease: to, log });
    } finally {
      figures.upgradeMs = Date.now() - t0;
      await sleep(3000); // writes and samples after the last member's restart
      stop = true;
      sampling = false;
      await Promise.all([writer, sampler]);
    }
    assert.deepEqual(await versions(), ["3.5.16", "3.5.16", "3.5.16"]);
    await waitFor(
      "the cluster version 3.5.0",
      30_000,
      async () => (await clusterVersion()) === "3.5.0",
      1000,
    );
    assert.ok(await allHealthy());
    assert.deepEqual(result.summary.updated.filter((x) => x.endsWith("-upgrade")).sort(), [
      "etcd-m1-upgrade",
      "etcd-m2-upgrade",
      "etcd-m3-upgrade",
    ]);

    // Member order, one at a time: the time each member first served 3.5.16.
    const firstNew = MEMBERS.map(
      (_, i) => samples.find((s) => s.members[i].version === "3.5.16")?.at ?? Infinity,
    );
    assert.ok(firstNew[0] < firstNew[1] && firstNew[1] < firstNew[2], `upgraded at ${firstNew.join(", ")}`);
    // Never two members down at once: each restart waited for the previous member to be healthy again.
    for (const s of samples) {
      const down = s.members.filter((m) => !m.healthy).length;
      assert.ok(down <= 1, `${down} members unhealthy at ${s.at}`);
    }
    // The leader last: while the first two ran 3.5.16 and the last still 3.4.23, the last one led, until
    // it handed leadership to an upgraded member just before its own restart (a sample may fall between
    // the hand-over and the restart: seen once, m1 leading there), and never led again before it. The
    // steps' reports below show both hand-overs (m2 to m3, m3 to m1).
    const beforeLast = samples.filter(
      (s) =>
        s.members.map((m) => m.version).join() === "3.5.16,3.5.16,3.4.23" && s.members.some((m) => m.leader),
    );
    assert.ok(beforeLast.length > 0, "sampled the cluster between the second and the last upgrade");
    const leaders = beforeLast.map((s) => `m${s.members.findIndex((m) => m.leader) + 1}`);
    const handedOver = leaders.findIndex((l) => l !== "m3");
    if (handedOver >= 0)
      assert.ok(!leaders.slice(handedOver).includes("m3"), `leaders sampled: ${leaders.join(" ")}`);
    // Each step's report: the last member handed leadership over before its own restart.
    for (const [i, m] of MEMBERS.entries()) {
      const out = stepStdout(lab, `etcd-${m}-upgrade`);
      const healthyAfter = /upgraded from etcd 3\.4\.23 to 3\.5\.16: healthy again after (\d+) s/.exec(out);
      assert.ok(healthyAfter, `${m}: ${out}`);
      figures[`${m}RestartToHealthyS`] = Number(healthyAfter[1]);
      const handover = [
        undefined,
        /handed leadership to m3 before the upgrade/,
        /handed leadership to m1 before the upgrade/,
      ][i];
      if (handover) assert.match(out, handover);
      else assert.doesNotMatch(out, /handed leadership/);
      for (const line of out.split("\n").filter((l) => l.includes("handed leadership")))
        figures[`${m}Handover`] = line.replace(/^.*handed/, "handed");
    }

    // No acknowledged write lost; the longest gap between two acknowledgements is the figure.
    assert.deepEqual(
      await missingWrites(result.files, etcd.endpoints, "load/", acked),
      [],
      "acknowledged, lost",
    );
    const during = acked.filter((w) => w.at >= t0);
    const gaps = during.slice(1).map((w, k) => w.at - during[k].at);
    const sorted = [...gaps].sort((a, b) => a - b);
    figures.writesAcked = acked.length;
    figures.writesFailed = failed;
    figures.longestWriteGapMs = Math.max(...gaps);
    // Where it was: ms after the run started, beside the time each member first served 3.5.16.
    figures.longestWriteGapEndedAtMs = during[gaps.indexOf(figures.longestWriteGapMs) + 1].at - t0;
    figures.top3WriteGapsMsEndedAtMs = gaps
      .map((g, k) => [g, during[k + 1].at - t0])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3)
      .map(([g, at]) => `${g}@${at}`)
      .join(" ");
    figures.servedNewVersionAtMs = firstNew.map((at) => at - t0).join("/");
    figures.medianWriteIntervalMs = sorted[Math.floor(sorted.length / 2)];
    assert.ok(figures.longestWriteGapMs < 10_000, `writes stopped for ${figures.longestWriteGapMs} ms`);
    for (let i = 0; i < 10; i++) assert.equal(await etcd.get(`before/${i}`), `b${i}`);
  });

  it("runs nothing again with the same version, and refuses a downgrade before anything changes", async () => {
    const again = await deployEtcd({ lab: LAB, subnetIndex: SUBNET, members: 3, etcdRelease: to, log });
    assert.equal(again.summary.commandsRun, 0);
    await assert.rejects(
      deployEtcd({ lab: LAB, subnetIndex: SUBNET, members: 3, log }),
      /refusing version 3\.4\.23: m\d runs etcd 3\.5\.16, and downgrades are refused/,
    );
    assert.deepEqual(await versions(), ["3.5.16", "3.5.16", "3.5.16"]);
    assert.ok(await allHealthy());
    await etcd.mustPut("after-upgrade", "ok");
  });
});
