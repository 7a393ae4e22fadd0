/**
 * etcd day 2 on the lab, timed (`npm run bench -- etcd-day2`): EtcdCluster's scheduled snapshots, restore
 * and rolling upgrade, each try on fresh hosts.
 *
 * - Snapshots (`backup`, every INTERVAL s, members taking turns) of a cluster holding DATA_KEYS keys of
 *   VALUE_BYTES each: every member's first scheduled run after the data was written, timed from its start
 *   to its end by systemd's own messages in the member's journal, with the snapshot's size.
 * - Restore from one of those snapshots: copied onto every member, every member's data destroyed (not
 *   timed), then the run of the program with `restoreFrom` and the time until the cluster is healthy with
 *   every key and the snapshot's revision back.
 * - On fresh hosts again, the rolling upgrade from the lab's etcd (Debian bookworm's 3.4.23) to trixie's
 *   3.5.16 (lab/hosts/release.ts repacks it) by changing `version`, under a continuous write load: a
 *   population of writers (one `etcdctl put` started every WRITE_EVERY_MS through all three members, each
 *   with its own WRITE_TIMEOUT, none waiting for the others, as in ./etcd.ts), so that the longest gap
 *   between two acknowledged writes is the cluster's and not one client's timeouts. Every acknowledged
 *   write is read back afterwards: lost ones are counted (there must be none).
 *
 *   npm run bench -- etcd-day2 [--tries 3]
 */
import { deployEtcd, stepStdout } from "../deploy";
import { countKeys, endpointStatus, etcdctl, revision } from "../etcdctl";
import { bulkValue, longestAckGap, missingWrites, putMany, Write, writers } from "../etcdWrites";
import { createLab, destroyLab, Lab } from "../hosts";
import { ensureTrixieEtcdTarball, publishTarball } from "../hosts/release";
import { sleep, waitFor } from "../hosts/run";
import { LAB_NAMES, LAB_SUBNETS } from "../hosts/subnets";
import { copyBetweenHosts, SnapshotRun, snapshotRuns } from "../snapshots";
import type { ClientFiles } from "../deploy";
import { withLab } from "./cleanup";
import { must } from "./onhost";
import { Row } from "./stats";

const LAB = LAB_NAMES.etcdDay2Bench;
const SUBNET = LAB_SUBNETS.etcdDay2Bench;
const MEMBERS = ["m1", "m2", "m3"];
/** The snapshot schedule: every 30 s, members at 0/10/20 s into each period (the default is 900 s). */
const INTERVAL = 30;
const RETENTION = 3;
/** The data the snapshots hold: 2000 keys of 4 KiB (8 MiB of values). */
const DATA_PREFIX = "data/";
const DATA_KEYS = 2000;
const VALUE_BYTES = 4096;
const RESTORE_PATH = "/root/restore.db";
/** The upgrade's write load, before and after its run. */
const WRITE_EVERY_MS = 100;
const WRITE_TIMEOUT = "3s";
const LOAD_PREFIX = "load/";
const BEFORE_MS = 2000;
const AFTER_MS = 3000;

type Samples = Record<string, number[]>;
/** The lab's own etcd version (the upgrade's start), for the table. */
const versions = { from: "3.4.23" };
const add = (s: Samples, metric: string, ...values: number[]) =>
  (s[metric] ??= []).push(...values.filter(Number.isFinite));

/** Every member healthy and answering `endpoint status`. */
async function allHealthy(files: ClientFiles, endpoints: string[]): Promise<boolean> {
  return (await endpointStatus(files, endpoints)).every((s) => s.healthy);
}

/** Each member step's time in the lab runner's log of a run (`etcd-m1-member: ran ... in 3.2s`). */
function memberSteps(into: number[]): (line: string) => void {
  return (line) => {
    const m = /etcd-m\d+-member: ran .* in ([0-9.]+)s/.exec(line);
    if (m) into.push(Number(m[1]) * 1000);
  };
}

/** Fresh hosts with a snapshot timer on every member: timed snapshot runs, then a timed restore. */
async function snapshotsAndRestore(s: Samples, log: (l: string) => void): Promise<void> {
  await destroyLab(LAB);
  await createLab({ name: LAB, hosts: 3, subnetIndex: SUBNET });
  const opts = {
    lab: LAB,
    subnetIndex: SUBNET,
    members: 3,
    etcdBackup: { intervalSeconds: INTERVAL, retention: RETENTION },
  };
  const r = await deployEtcd(opts);
  await putMany(r.files, r.endpoints, DATA_PREFIX, DATA_KEYS, VALUE_BYTES);
  const loaded = Date.now();
  const rev = await revision(r.files, r.endpoints);

  // Every member's first scheduled run that started after the data was written.
  const runs = await waitFor(
    "a snapshot run on every member",
    async () => {
      const first = await Promise.all(MEMBERS.map(async (m) => (await snapshotRuns(r.lab, m, loaded))[0]));
      return first.every((x) => x !== undefined) ? (first as SnapshotRun[]) : false;
    },
    (2 * INTERVAL + 30) * 1000,
    2000,
  );
  const bytes = await Promise.all(
    runs.map(async (x) => Number(await must(r.lab, x.member, `stat -c %s ${x.file}`))),
  );
  for (const x of runs)
    if (x.revision !== rev)
      throw new Error(`${x.member}'s snapshot has revision ${x.revision}, expected ${rev}`);
  add(s, "snapshotRunMs", ...runs.map((x) => x.finishedAt - x.startedAt));
  add(s, "snapshotMiB", ...bytes.map((b) => b / 2 ** 20));
  log(
    `  snapshots: ${runs.map((x, i) => `${x.member} ${x.finishedAt - x.startedAt} ms, ${bytes[i]} bytes`).join("; ")} (revision ${rev})`,
  );

  // Restore from m1's snapshot: a write after it must be gone, every key before it back.
  const snap = runs[0];
  const after = await etcdctl(["put", "after-snapshot", "lost"], { files: r.files, endpoints: r.endpoints });
  if (after.code !== 0) throw new Error(`put after-snapshot: ${after.stderr.trim()}`);
  await copyBetweenHosts(r.lab, snap.member, snap.file, MEMBERS, RESTORE_PATH);
  for (const m of MEMBERS) await must(r.lab, m, "systemctl stop etcd && rm -rf /var/lib/etcd/member");
  const steps: number[] = [];
  const t0 = Date.now();
  await deployEtcd({
    ...opts,
    etcdRestoreFrom: { path: RESTORE_PATH, sha256: snap.sha256 },
    log: memberSteps(steps),
  });
  const runMs = Date.now() - t0;
  await waitFor(
    "the restored cluster healthy with every key and the snapshot's revision",
    async () =>
      (await allHealthy(r.files, r.endpoints)) &&
      (await revision(r.files, r.endpoints)) === rev &&
      (await countKeys(r.files, r.endpoints, DATA_PREFIX)) === DATA_KEYS,
    120_000,
    100,
  );
  const backMs = Date.now() - t0;
  const sample = await etcdctl(["get", `${DATA_PREFIX}1234`, "--print-value-only"], {
    files: r.files,
    endpoints: r.endpoints,
  });
  if (sample.stdout.trim() !== bulkValue(1234, VALUE_BYTES)) throw new Error("a restored value differs");
  if ((await countKeys(r.files, r.endpoints, "after-snapshot")) !== 0)
    throw new Error("the write made after the snapshot survived the restore");
  add(s, "restoreRunMs", runMs);
  add(s, "restoreMs", backMs);
  add(s, "restoreMemberStepMs", ...steps);
  log(
    `  restore: run ${runMs} ms, healthy with the data back after ${backMs} ms, member steps ${steps.join("/")} ms`,
  );
}

/** Fresh hosts on the lab's etcd: the rolling upgrade to `to` under a write load. */
async function rollingUpgrade(
  tarball: Awaited<ReturnType<typeof ensureTrixieEtcdTarball>>,
  s: Samples,
  log: (l: string) => void,
): Promise<void> {
  await destroyLab(LAB);
  const lab: Lab = await createLab({ name: LAB, hosts: 3, subnetIndex: SUBNET });
  publishTarball(LAB, tarball);
  const to = { version: tarball.version, baseUrl: lab.releaseBaseUrl, sha256: tarball.sha256 };
  const opts = { lab: LAB, subnetIndex: SUBNET, members: 3 };
  const r = await deployEtcd(opts);
  const running = async () => (await endpointStatus(r.files, r.endpoints)).map((x) => x.version).join();
  const old = lab.etcdRelease.version.replace(/^v/, "");
  versions.from = old;
  if ((await running()) !== [old, old, old].join()) throw new Error(`before: ${await running()}`);

  const w = writers(r.files, r.endpoints, {
    prefix: LOAD_PREFIX,
    everyMs: WRITE_EVERY_MS,
    timeout: WRITE_TIMEOUT,
  });
  await sleep(BEFORE_MS);
  const t0 = Date.now();
  let t1 = t0;
  let writes: Write[] = [];
  try {
    await deployEtcd({ ...opts, etcdRelease: to });
  } finally {
    t1 = Date.now();
    await sleep(AFTER_MS);
    writes = await w.stop();
  }
  const now = to.version.replace(/^v/, "");
  if ((await running()) !== [now, now, now].join()) throw new Error(`after: ${await running()}`);
  await waitFor("every member healthy", () => allHealthy(r.files, r.endpoints), 60_000);
  const gap = longestAckGap(writes, t0, t1 + AFTER_MS);
  const acked = writes.filter((x) => x.ok);
  const lost = await missingWrites(r.files, r.endpoints, LOAD_PREFIX, acked);
  const failed = writes.filter((x) => !x.ok);
  const restarts = MEMBERS.map(
    (m) => Number(/healthy again after (\d+) s/.exec(stepStdout(lab, `etcd-${m}-upgrade`))?.[1]) * 1000,
  );
  add(s, "upgradeMs", t1 - t0);
  add(s, "upgradeGapMs", gap.ms);
  add(s, "upgradeFailedWrites", failed.length);
  add(s, "upgradeLostWrites", lost.length);
  add(s, "upgradeRestartMs", ...restarts);
  log(
    `  upgrade ${old} -> ${now}: run ${t1 - t0} ms, longest gap ${gap.ms} ms (ended ${gap.endedAt - t0} ms into the run), ` +
      `writes ${writes.length}, failed ${failed.length} (${failed.filter((x) => x.end < t0).length} before the run), ` +
      `lost ${lost.length}${lost.length ? ` (${lost.slice(0, 5).join(" ")})` : ""}, restarts ${restarts.join("/")} ms`,
  );
}

export async function benchEtcdDay2(tries: number, log: (l: string) => void): Promise<Row[]> {
  const tarball = await ensureTrixieEtcdTarball(log);
  const s: Samples = {};
  await withLab(LAB, async () => {
    for (let i = 0; i < tries; i++) {
      log(`etcd-day2 try ${i + 1}/${tries}: snapshots and restore`);
      await snapshotsAndRestore(s, log);
      log(`etcd-day2 try ${i + 1}/${tries}: rolling upgrade`);
      await rollingUpgrade(tarball, s, log);
    }
  });
  const data = `3 members, ${DATA_KEYS} keys x ${VALUE_BYTES / 1024} KiB`;
  const upgrade = `${versions.from} -> ${tarball.version.replace(/^v/, "")}, a put every ${WRITE_EVERY_MS} ms`;
  const rows: Array<[string, string, string, string]> = [
    [
      "snapshotRunMs",
      `scheduled snapshot run (every ${INTERVAL} s): unit start -> end, per member`,
      data,
      "s",
    ],
    ["snapshotMiB", "snapshot size", data, "MiB"],
    ["restoreRunMs", "restore: the run with restoreFrom (3 member steps, health gate)", data, "s"],
    ["restoreMemberStepMs", "restore: one member's step (sha256, snapshot restore, start)", data, "s"],
    ["restoreMs", "restore: run start -> healthy, every key and the revision back", data, "s"],
    ["upgradeMs", "rolling upgrade: the run (3 installs, 3 upgrade steps, health gate)", upgrade, "s"],
    ["upgradeRestartMs", "rolling upgrade: a member's restart until healthy (step's report)", upgrade, "s"],
    ["upgradeGapMs", "rolling upgrade: longest gap between two acknowledged writes", upgrade, "s"],
    [
      "upgradeFailedWrites",
      `rolling upgrade: writes failed (${WRITE_TIMEOUT} timeout each), whole load`,
      upgrade,
      "writes",
    ],
    ["upgradeLostWrites", "rolling upgrade: acknowledged writes lost", upgrade, "writes"],
  ];
  return rows.map(([m, metric, profile, unit]) => ({ metric, profile, samples: s[m] ?? [], unit }));
}
