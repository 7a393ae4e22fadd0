/**
 * EtcdCluster day 2 on real etcd (Debian's 3.4.23 through the `release` install) on real lab hosts:
 * scheduled snapshots (timer on every member, members taking turns, verified, sha256, 0600, retention,
 * encrypted copy to another lab host over SSH), a failing snapshot failing its unit, and a restore of
 * every member from a snapshot after every member's data was destroyed. Steps build on each other.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deployEtcd, EtcdDeployResult } from "../../lab/deploy";
import { endpointStatus, etcdctl, revision as readRevision } from "../../lab/etcdctl";
import { createLab, destroyLab, exec, Lab } from "../../lab/hosts";
import { LAB_NAMES, LAB_SUBNETS } from "../../lab/hosts/subnets";
import * as providers from "../../lab/providers";
import type { EtcdBackupArgs } from "../../components/etcd/backup";
import {
  copyBetweenHosts,
  describeSnapshots,
  etcdAlarms,
  snapshotRuns,
  snapshotStatus,
} from "../../lab/snapshots";
import { Etcd, waitFor } from "./helpers";

const LAB = LAB_NAMES.etcdDay2Test;
const SUBNET = LAB_SUBNETS.etcdDay2Test;
const log = process.env.LAB_VERBOSE ? (l: string) => console.log(`      ${l}`) : undefined;
/** Short for the test; the default is 900 s. */
const INTERVAL = 20;
const RETENTION = 3;
const DIR = "/var/backups/etcd";
const COPY_DIR = "/srv/etcd-backups";
const MEMBERS = ["m1", "m2", "m3"];
/** Defragmentation every 30 s for the test (offsets 0/10/20 s); the default is daily. */
const DEFRAG = { intervalSeconds: 30 };
/** The snapshot file names' UTC time: etcd-etcd-m1-20261207T061846Z.db */
const SNAPSHOT = /^etcd-etcd-(m\d)-(\d{8})T(\d{2})(\d{2})(\d{2})Z\.db$/;

interface Snapshot {
  file: string;
  member: string;
  /** Seconds since midnight UTC. */
  second: number;
}

function parse(file: string): Snapshot | undefined {
  const m = SNAPSHOT.exec(file);
  return m
    ? { file, member: m[1], second: Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]) }
    : undefined;
}

describe("EtcdCluster day 2: snapshots and restore on real etcd (lab)", function () {
  this.timeout(600_000);
  let lab: Lab;
  let result: EtcdDeployResult;
  let etcd: Etcd;
  let backup: EtcdBackupArgs;
  let recipientKey: string;
  const figures: Record<string, number | string> = {};
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hakube-day2-"));

  const sh = async (host: string, cmd: string, input?: string) => {
    const r = await exec(lab, host, cmd, { input, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  const snapshots = async (host: string, dir = DIR) =>
    (await sh(host, `ls -1 ${dir} 2>/dev/null || true`))
      .split("\n")
      .filter((f) => f !== "")
      .sort();
  const revision = () => readRevision(result.files, etcd.endpoints);
  const allHealthy = async () => (await endpointStatus(result.files, etcd.endpoints)).every((s) => s.healthy);
  /** The suite's cluster (backups and defragmentation as before() sets them), with `extra` for day 2. */
  const deploy = (extra: Partial<Parameters<typeof deployEtcd>[0]> = {}) =>
    deployEtcd({
      lab: LAB,
      subnetIndex: SUBNET,
      members: 3,
      etcdBackup: backup,
      etcdDefrag: DEFRAG,
      log,
      ...extra,
    });

  before(async function () {
    await destroyLab(LAB); // leftovers of an interrupted run
    // m1-m3: the members; m4: the off-host copy's target.
    lab = await createLab({ name: LAB, hosts: 4, subnetIndex: SUBNET, log });
    const target = lab.hosts.find((h) => h.name === "m4")!;
    await sh("m4", `install -d -m 0700 ${COPY_DIR}`);
    // The recipient of the encrypted copies: key and self-signed certificate as @pulumi/tls makes them.
    const key = await providers.create("tls:index/privateKey:PrivateKey", {
      algorithm: "ECDSA",
      ecdsaCurve: "P256",
    });
    recipientKey = String(key.outputs.privateKeyPem);
    const cert = await providers.create("tls:index/selfSignedCert:SelfSignedCert", {
      privateKeyPem: recipientKey,
      allowedUses: ["key_encipherment", "key_agreement"],
      validityPeriodHours: 24,
      subject: { commonName: "etcd-backup-recipient" },
    });
    backup = {
      intervalSeconds: INTERVAL,
      retention: RETENTION,
      copyTo: {
        host: target.address,
        user: "root",
        privateKey: fs.readFileSync(lab.privateKeyPath, "utf8"),
        hostKey: target.hostKey,
        directory: COPY_DIR,
        retention: 4,
      },
      encryptTo: { certificatePem: String(cert.outputs.certPem) },
    };
    const t0 = Date.now();
    result = await deploy();
    figures.deployMs = Date.now() - t0;
    etcd = new Etcd(result.files, result.endpoints);
  });
  after(async function () {
    this.timeout(120_000);
    await destroyLab(LAB);
    fs.rmSync(tmp, { recursive: true, force: true });
    if (Object.keys(figures).length > 0) console.log(`      lab figures: ${JSON.stringify(figures)}`);
  });

  it("installs an active snapshot timer on every member, each at its own share of the interval", async () => {
    for (const [i, m] of MEMBERS.entries()) {
      assert.equal((await sh(m, "systemctl is-active etcd-backup.timer")).trim(), "active");
      assert.equal((await sh(m, "systemctl is-enabled etcd-backup.timer")).trim(), "enabled");
      const timer = await sh(m, "cat /etc/systemd/system/etcd-backup.timer");
      const offset = Math.floor((INTERVAL * i) / 3);
      assert.match(
        timer,
        new RegExp(`^OnCalendar=\\*-\\*-\\* \\*:\\*:${String(offset).padStart(2, "0")}/${INTERVAL}$`, "m"),
      );
      assert.equal((await sh(m, "stat -c %a /etc/etcd/backup/ssh-key")).trim(), "600");
    }
  });

  it("takes verified snapshots on schedule: sha256 beside each, files 0600 in a 0700 directory, retention kept", async () => {
    for (let i = 0; i < 20; i++) await etcd.mustPut(`day2/${i}`, `v${i}`);
    // Wait for RETENTION + 1 runs of every member, so that pruning has happened.
    const t0 = Date.now();
    await waitFor(
      `${RETENTION + 1} snapshot runs on every member`,
      (RETENTION + 3) * INTERVAL * 1000,
      async () => {
        for (const m of MEMBERS) if ((await snapshotRuns(lab, m)).length < RETENTION + 1) return false;
        return true;
      },
      2000,
    );
    figures.waitedForSnapshotsMs = Date.now() - t0;
    for (const [i, m] of MEMBERS.entries()) {
      const files = await snapshots(m);
      const dbs = files.map(parse).filter((s): s is Snapshot => s !== undefined);
      assert.equal(dbs.length, RETENTION, `${m} keeps ${RETENTION} snapshots, has ${files.join(" ")}`);
      assert.ok(dbs.every((s) => s.member === m));
      assert.deepEqual(
        files.filter((f) => f.endsWith(".sha256")),
        dbs.map((s) => `${s.file}.sha256`),
      );
      assert.deepEqual(
        files.filter((f) => f.startsWith(".")),
        [],
        "no temporary file left",
      );
      // On schedule: INTERVAL apart, at this member's share of the interval (a few seconds of slack).
      const offset = Math.floor((INTERVAL * i) / 3);
      for (const s of dbs) {
        const late = (((s.second - offset) % INTERVAL) + INTERVAL) % INTERVAL;
        assert.ok(late <= 5, `${m}'s ${s.file} is ${late} s after its slot (offset ${offset} s)`);
        figures.maxSlotLatenessS = Math.max(Number(figures.maxSlotLatenessS ?? 0), late);
      }
      for (let k = 1; k < dbs.length; k++) {
        const gap = dbs[k].second - dbs[k - 1].second;
        assert.ok(gap >= INTERVAL - 5 && gap <= INTERVAL + 5, `${m}: ${gap} s between snapshots`);
      }
      assert.match(
        await sh(m, `cd ${DIR} && sha256sum -c ${dbs.map((s) => s.file + ".sha256").join(" ")}`),
        /OK/,
      );
      assert.equal((await sh(m, `stat -c %a ${DIR}`)).trim(), "700");
      assert.deepEqual(
        [...new Set((await sh(m, `stat -c %a ${DIR}/*`)).trim().split("\n"))],
        ["600"],
        `${m}: every file in ${DIR} is 0600`,
      );
      // The lab status' view: a last good snapshot younger than two intervals, the last run not failed.
      const st = await snapshotStatus(lab, m);
      assert.ok(st.scheduled && st.lastGood?.startsWith(`${DIR}/etcd-etcd-${m}-`), JSON.stringify(st));
      assert.ok(
        st.ageSeconds! >= 0 && st.ageSeconds! <= 2 * INTERVAL,
        `${m}: last good is ${st.ageSeconds} s old`,
      );
      assert.ok(["inactive", "activating"].includes(st.unit!), `${m}: etcd-backup.service is ${st.unit}`);
      figures[`${m}LastGoodAgeS`] = st.ageSeconds!;
    }
    // The newest snapshot of m1 holds the keys written before it: restore-check it on this machine.
    const newest = (await snapshots("m1")).filter((f) => SNAPSHOT.test(f)).pop()!;
    const local = path.join(tmp, newest);
    fs.writeFileSync(local, Buffer.from(await sh("m1", `base64 -w0 ${DIR}/${newest}`), "base64"));
    const status = execFileSync("etcdctl", ["snapshot", "status", local, "-w", "json"], {
      env: { ...process.env, ETCDCTL_API: "3" },
      encoding: "utf8",
    });
    const st = JSON.parse(status) as { revision: number; totalKey: number };
    assert.ok(st.totalKey >= 20, `snapshot has ${st.totalKey} keys`);
    figures.snapshotRevision = st.revision;
  });

  it("copies every snapshot off the host, encrypted to the recipient, sha256 verified on the target", async () => {
    const files = await snapshots("m4", COPY_DIR);
    for (const m of MEMBERS) {
      const cms = files.filter((f) => f.startsWith(`etcd-etcd-${m}-`) && f.endsWith(".db.cms"));
      assert.ok(cms.length >= 1 && cms.length <= 4, `${m}: ${cms.length} copies on m4 (retention 4)`);
      assert.ok(!files.some((f) => f.endsWith(".db")), "no unencrypted snapshot on the target");
      const newest = cms[cms.length - 1];
      assert.match(await sh("m4", `cd ${COPY_DIR} && sha256sum -c ${newest}.sha256`), /OK/);
      assert.equal((await sh("m4", `stat -c %a ${COPY_DIR}/${newest}`)).trim(), "600");
      // Decrypt with the recipient's key (on this machine): the plain snapshot's own sha256 matches.
      const enc = path.join(tmp, newest);
      fs.writeFileSync(enc, Buffer.from(await sh("m4", `base64 -w0 ${COPY_DIR}/${newest}`), "base64"));
      const keyFile = path.join(tmp, "recipient.key");
      fs.writeFileSync(keyFile, recipientKey, { mode: 0o600 });
      const plain = enc.replace(/\.cms$/, "");
      execFileSync("openssl", [
        "cms",
        "-decrypt",
        "-inform",
        "DER",
        "-in",
        enc,
        "-inkey",
        keyFile,
        "-out",
        plain,
      ]);
      // The plain snapshot's sha256 is beside it on the target: the decrypted file matches it.
      fs.writeFileSync(`${plain}.sha256`, await sh("m4", `cat ${COPY_DIR}/${path.basename(plain)}.sha256`));
      execFileSync("sha256sum", ["-c", `${path.basename(plain)}.sha256`], { cwd: tmp });
      // Retention there keeps each copy with both its sha256 files (a copy being sent may add its two
      // sha256 files just before it appears), and nothing else.
      const mine = files.filter((f) => f.startsWith(`etcd-etcd-${m}-`));
      const expected = cms.flatMap((f) => [f.replace(/\.cms$/, ".sha256"), f, `${f}.sha256`]);
      for (const f of expected) assert.ok(mine.includes(f), `${f} missing on m4`);
      const extra = mine.filter((f) => !expected.includes(f));
      assert.ok(extra.length <= 2 && extra.every((f) => f.endsWith(".sha256")), `unexpected on m4: ${extra}`);
    }
  });

  it("defragments every member on schedule, one at a time: the database file shrinks after deletes and a compaction", async () => {
    assert.deepEqual(
      await etcdAlarms(result.files, etcd.endpoints),
      [],
      "no alarm raised (NOSPACE would be listed)",
    );
    const big = "x".repeat(64 * 1024);
    for (let i = 0; i < 40; i++) await etcd.mustPut(`bulk/${i}`, big);
    const del = await etcdctl(["del", "bulk/", "--prefix"], {
      files: result.files,
      endpoints: etcd.endpoints,
    });
    assert.equal(del.code, 0, del.stderr);
    const rev = await revision();
    const compact = await etcdctl(["compact", String(rev), "--physical"], {
      files: result.files,
      endpoints: etcd.endpoints,
    });
    assert.equal(compact.code, 0, compact.stderr);
    const since = (await sh("m1", "date -u '+%Y-%m-%d %H:%M:%S'")).trim();
    const t0 = Date.now();
    const runs = new Map<string, { before: number; after: number; at: string }>();
    const unit = (v: string, u: string) => Number(v) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[u] ?? NaN);
    await waitFor(
      "a defragmentation of every member",
      4 * DEFRAG.intervalSeconds * 1000,
      async () => {
        for (const m of MEMBERS) {
          if (runs.has(m)) continue;
          const out = await sh(
            m,
            `journalctl -u etcd-defrag.service -o short-iso-precise --since '${since}' | grep 'defragmented' | tail -n 1`,
          );
          const d = /^(\S+) .*database ([\d.]+) (\w+) -> ([\d.]+) (\w+)/.exec(out.trim());
          if (d) runs.set(m, { at: d[1], before: unit(d[2], d[3]), after: unit(d[4], d[5]) });
        }
        return runs.size === MEMBERS.length;
      },
      2000,
    );
    figures.defragAllMembersMs = Date.now() - t0;
    for (const [m, r] of runs) {
      assert.ok(r.after < r.before, `${m}: database ${r.before} -> ${r.after} bytes`);
      figures[`${m}DefragBytes`] = `${r.before}->${r.after}`;
    }
    // One at a time: no two members' runs within the same few seconds.
    const times = [...runs.values()].map((r) => Date.parse(r.at)).sort((a, b) => a - b);
    for (let k = 1; k < times.length; k++)
      assert.ok(times[k] - times[k - 1] >= 5000, `defrags ${times[k] - times[k - 1]} ms apart`);
    assert.ok(await allHealthy());
  });

  it("fails the unit loudly when the local member is not healthy", async () => {
    await sh("m3", "systemctl stop etcd");
    try {
      await waitFor(
        "etcd-backup.service on m3 to fail",
        (INTERVAL + 10) * 1000,
        async () => (await sh("m3", "systemctl is-failed etcd-backup.service || true")).trim() === "failed",
        1000,
      );
      assert.match(await sh("m3", "journalctl -u etcd-backup.service -o cat -n 20"), /is not healthy/);
      assert.match(describeSnapshots(await snapshotStatus(lab, "m3")), /last run FAILED/);
    } finally {
      await sh("m3", "systemctl start --no-block etcd");
    }
    await waitFor("all members healthy", 60_000, allHealthy);
  });

  it("restores every member from a snapshot after every member's data is gone: every key and the revision are back", async () => {
    for (let i = 0; i < 50; i++) await etcd.mustPut(`restore/${i}`, `r${i}`);
    const before = await revision();
    // The first snapshot of m1 taken after the last write: it holds exactly this revision.
    const t0 = Date.now();
    const snap = await waitFor(
      "a snapshot of m1 at the current revision",
      (INTERVAL + 15) * 1000,
      async () => (await snapshotRuns(lab, "m1", t0 - 1000)).find((r) => r.revision === before) ?? false,
      1000,
    );
    figures.snapshotAfterWriteMs = Date.now() - t0;
    await etcd.mustPut("after-snapshot", "lost");
    // The snapshot onto every member, then every member's data destroyed.
    await copyBetweenHosts(lab, "m1", snap.file, MEMBERS, "/root/restore.db");
    for (const m of MEMBERS) await sh(m, "systemctl stop etcd && rm -rf /var/lib/etcd/member");
    assert.ok(!(await allHealthy()));

    const t1 = Date.now();
    result = await deploy({ etcdRestoreFrom: { path: "/root/restore.db", sha256: snap.sha256 } });
    figures.restoreMs = Date.now() - t1;
    assert.deepEqual(result.summary.updated.filter((n) => n.endsWith("-member")).sort(), [
      "etcd-m1-member",
      "etcd-m2-member",
      "etcd-m3-member",
    ]);
    assert.ok(await allHealthy());
    for (let i = 0; i < 50; i++) assert.equal(await etcd.get(`restore/${i}`), `r${i}`);
    assert.equal(await etcd.get("day2/7"), "v7");
    assert.equal(await etcd.get("after-snapshot"), undefined, "a write after the snapshot is not in it");
    assert.equal(await revision(), before, "the revision is the snapshot's");
    for (const m of MEMBERS) {
      assert.equal((await sh(m, "cat /etc/etcd/restored-from")).trim(), snap.sha256);
    }
  });

  it("a second run with the same restoreFrom runs nothing; another snapshot is refused on members with data", async () => {
    const again = await deploy({
      etcdRestoreFrom: {
        path: "/root/restore.db",
        sha256: (await sh("m1", "cat /etc/etcd/restored-from")).trim(),
      },
    });
    assert.equal(again.summary.commandsRun, 0);
    await etcd.mustPut("kept", "yes");
    // A restoreFrom naming another snapshot: every member has data that is not from it.
    const other = crypto.createHash("sha256").update("another snapshot").digest("hex");
    await assert.rejects(
      deploy({ etcdRestoreFrom: { path: "/root/restore.db", sha256: other } }),
      /refusing to restore \/root\/restore\.db: m1 already has data/,
    );
    assert.ok(await allHealthy());
    assert.equal(await etcd.get("kept"), "yes", "the refused restore touched nothing");
  });

  it("recovers from lost quorum (2 of 3 members' data destroyed while writes run) from the survivor: every acknowledged write is there", async () => {
    assert.ok(await allHealthy());
    const m1 = [etcd.endpoints[0]];
    const acked = new Map<string, string>();
    let failuresInARow = 0;
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        const key = `quorum/${n}`;
        const value = `w${n++}`;
        const r = await etcd.put(key, value, m1, "2s");
        if (r.code === 0) {
          acked.set(key, value);
          failuresInARow = 0;
        } else failuresInARow++;
      }
    })();
    await waitFor("20 acknowledged writes", 60_000, async () => acked.size >= 20, 100);
    // Two of three members lose their data for good while the writes run.
    await Promise.all(
      ["m2", "m3"].map((m) =>
        sh(m, "systemctl kill -s KILL etcd; systemctl stop etcd; rm -rf /var/lib/etcd/member"),
      ),
    );
    await waitFor("writes to fail (quorum lost)", 60_000, async () => failuresInARow >= 3, 200);
    stop = true;
    await writer;
    figures.ackedBeforeLoss = acked.size;
    assert.notEqual((await etcd.put("without-quorum", "x", m1, "2s")).code, 0, "no write without quorum");

    const t0 = Date.now();
    result = await deploy({ etcdRecoverQuorum: { from: "m1", id: "lab-1" } });
    figures.quorumRecoveryMs = Date.now() - t0;
    assert.ok(await allHealthy());
    const members = await etcd.members();
    assert.deepEqual(members.map((m) => [m.name, m.learner]).sort(), [
      ["m1", false],
      ["m2", false],
      ["m3", false],
    ]);
    for (const [key, value] of acked)
      assert.equal(await etcd.get(key), value, `${key} was acknowledged before the loss`);
    assert.equal(await etcd.get("day2/7"), "v7");
    assert.equal((await sh("m1", "cat /etc/etcd/recovered-quorum")).trim(), "lab-1");
    assert.doesNotMatch(await sh("m1", "cat /etc/etcd/cluster.env"), /FORCE_NEW_CLUSTER/);
    await etcd.mustPut("after-recovery", "ok");
    // Left in the program, the same recoverQuorum runs nothing and never forces again.
    const again = await deploy({ etcdRecoverQuorum: { from: "m1", id: "lab-1" } });
    assert.equal(again.summary.commandsRun, 0);
  });
});
