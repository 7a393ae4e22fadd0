/**
 * etcd benchmark on the lab: for each timing profile, over several fresh clusters, how long hakube takes
 * to deploy and form a 3-member cluster, how long the cluster has no leader after the leader's host dies,
 * how long the returning host takes to catch up, how long one join (3 -> 4) takes, and whether heavy CPU
 * load alone causes elections. EtcdCluster's timing profiles side by side in one run (ETCD_PROFILES).
 *
 * The leader's death is timed as the cluster sees it, not as one client does: the link cut is timed
 * itself (../onhost.ts powerCut), the survivors' journals give the time a new leader was elected, and a
 * population of writers (one `etcdctl put` started every WRITE_EVERY_MS, each not waiting for the others,
 * WRITE_TIMEOUT each) gives the first write committed after the fault. A single client that retries
 * after each failed write measures its own timeouts instead: the previous version of this benchmark
 * (one put at a time, 1 s command timeout, started only after the power-off call returned) reported
 * about double the cluster's gap.
 *
 *   npm run bench -- etcd [--tries 5]
 */
import { EtcdTimingProfile } from "../../components/etcd/types";
import { deployEtcd } from "../deploy";
import { endpointStatus, etcdctl } from "../etcdctl";
import { writers } from "../etcdWrites";
import { createLab, destroyLab, exec, Lab, powerOn } from "../hosts";
import { withLab } from "./cleanup";
import { cpuLoad, powerCut } from "./onhost";
import { Row } from "./stats";
import { LAB_NAMES, LAB_SUBNETS } from "../hosts/subnets";

const LAB = LAB_NAMES.etcdBench;
const SUBNET = LAB_SUBNETS.etcdBench;
/** Writers: one started this often, before and after the fault. */
const WRITE_EVERY_MS = 100;
const WRITE_TIMEOUT = "3s";
/** Writers run this long before the fault (a baseline: every write there must succeed). */
const PRE_FAULT_MS = 1000;
/** The no-fault load scenario: busy loops per host, for this long. */
const LOAD_BURNERS = 3;
const LOAD_SECONDS = 30;

interface Profile {
  name: string;
  timing: EtcdTimingProfile;
}

/** EtcdCluster's timing profiles: Upstream is hakube's default, Wan has kubespray's values. */
export const ETCD_PROFILES: Profile[] = [
  { name: "Upstream, hakube's default (100/1000 ms)", timing: EtcdTimingProfile.Upstream },
  { name: "Fast (100/500 ms, pre-vote)", timing: EtcdTimingProfile.Fast },
  { name: "Wan (250/5000 ms, kubespray's)", timing: EtcdTimingProfile.Wan },
];

async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  everyMs = 50,
): Promise<number> {
  const t0 = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - t0;
}

/** When a survivor became leader after `since` (ms), from the survivors' etcd journals. */
async function electedAt(lab: Lab, hosts: string[], since: number): Promise<number | undefined> {
  const times = await Promise.all(
    hosts.map(async (h) => {
      const r = await exec(
        lab,
        h,
        `TZ=UTC journalctl -u etcd -o short-iso-precise --since @${Math.floor(since / 1000)} --no-pager | grep 'became leader at term' | head -n 1`,
      );
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})/.exec(r.stdout.trim());
      return m ? Date.parse(`${m[1]}Z`) : undefined;
    }),
  );
  const after = times.filter((t): t is number => t !== undefined && t >= since);
  return after.length > 0 ? Math.min(...after) : undefined;
}

/** The highest raft term any of `endpoints` reports. */
async function term(files: Parameters<typeof endpointStatus>[0], endpoints: string[]): Promise<number> {
  const st = await endpointStatus(files, endpoints);
  return Math.max(...st.map((s) => s.raftTerm ?? 0));
}

/** One fresh cluster: returns the figures of one try. */
async function oneTry(p: Profile, log: (l: string) => void): Promise<Record<string, number>> {
  await destroyLab(LAB);
  const stamps: Record<string, number> = {};
  const runnerLog = (line: string) => {
    const now = Date.now();
    if (line.includes("+ create etcd-m1-member")) stamps.firstMember = now;
    if (/etcd-health: ran/.test(line)) stamps.healthy = now;
    const m = /etcd-m4-member: ran .* in ([0-9.]+)s/.exec(line);
    if (m) stamps.m4member = Number(m[1]) * 1000;
  };
  const opts = {
    lab: LAB,
    subnetIndex: SUBNET,
    etcdTimingProfile: p.timing,
  };
  // Hosts first (not timed), then the deployment.
  await createLab({ name: LAB, hosts: 4, subnetIndex: SUBNET });
  const t0 = Date.now();
  const r = await deployEtcd({ ...opts, members: 3, log: runnerLog });
  const deployMs = Date.now() - t0;
  const formationMs = stamps.healthy - stamps.firstMember;
  const members = ["m1", "m2", "m3"];

  // No fault, heavy CPU load in every member: any election is a spurious one.
  const termBefore = await term(r.files, r.endpoints);
  const stopLoad = await cpuLoad(r.lab, members, LOAD_SECONDS, LOAD_BURNERS);
  await new Promise((res) => setTimeout(res, LOAD_SECONDS * 1000));
  await stopLoad();
  const spuriousElections = (await term(r.files, r.endpoints)) - termBefore;

  const status = await endpointStatus(r.files, r.endpoints);
  const leader = status.find((s) => s.leader)!.endpoint;
  const leaderHost = r.lab.hosts.find((h) => leader.includes(`//${h.address}:`))!.name;
  const survivors = r.endpoints.filter((e) => e !== leader);
  const survivorHosts = members.filter((h) => h !== leaderHost);
  const w = writers(r.files, survivors, { everyMs: WRITE_EVERY_MS, timeout: WRITE_TIMEOUT });
  await new Promise((res) => setTimeout(res, PRE_FAULT_MS));
  const { at: cut, cutMs } = await powerCut(r.lab, leaderHost);
  // Until a write started after the cut was committed, then one more second of writes.
  await until("a write committed after the leader died", 60_000, async () =>
    w.writes.some((x) => x.ok && x.at > cut),
  );
  await new Promise((res) => setTimeout(res, 1000));
  const writes = await w.stop();
  const baselineFailed = writes.filter((x) => x.end < cut && !x.ok).length;
  // Writes started after the cut: one in flight at the cut may return after it, committed before it.
  const committed = writes.filter((x) => x.ok && x.at > cut).map((x) => x.end);
  const firstCommitMs = committed.length > 0 ? Math.min(...committed) - cut : NaN;
  const failedWrites = writes.filter((x) => !x.ok).length;
  const elected = await electedAt(r.lab, survivorHosts, cut - 1000);
  const electionMs = elected === undefined ? NaN : elected - cut;

  const back = Date.now();
  await powerOn(r.lab, leaderHost);
  // The last write committed while the host was down: it must read it from its own copy.
  const last = writes.filter((x) => x.ok && x.at > cut).pop()!;
  const get = async () => {
    const g = await etcdctl(["get", last.key, "--print-value-only", "--consistency=s"], {
      files: r.files,
      endpoints: [leader],
      commandTimeout: "1s",
    });
    return g.code === 0 && g.stdout.trim() === last.value;
  };
  await until("the returning member to catch up", 120_000, get);
  const catchUpMs = Date.now() - back;

  const j0 = Date.now();
  await deployEtcd({ ...opts, members: 4, log: runnerLog });
  const joinMs = Date.now() - j0;
  log(
    `  ${p.name}: deploy ${deployMs} ms, formation ${formationMs} ms, spurious elections ${spuriousElections}, cut ${cutMs} ms, new leader after ${electionMs} ms, first write committed after ${firstCommitMs} ms, failed writes ${failedWrites} (before the cut ${baselineFailed}), catch-up ${catchUpMs} ms, join ${joinMs} ms`,
  );
  return {
    deployMs,
    formationMs,
    spuriousElections,
    electionMs,
    firstCommitMs,
    failedWrites,
    catchUpMs,
    joinMs,
    joinMemberStepMs: stamps.m4member,
  };
}

export async function benchEtcd(tries: number, log: (l: string) => void): Promise<Row[]> {
  const metrics: Array<[string, string, string]> = [
    [
      "deployMs",
      "deploy 3 members on fresh hosts (install, certificates, configure, form, health gate)",
      "s",
    ],
    ["formationMs", "formation: first member step to health gate passed", "s"],
    [
      "spuriousElections",
      `no fault, ${LOAD_BURNERS} busy loops per member for ${LOAD_SECONDS} s: elections (raft term increase)`,
      "elections",
    ],
    ["electionMs", "leader's link cut -> a survivor elected leader (survivors' journals)", "s"],
    [
      "firstCommitMs",
      `leader's link cut -> first write committed of those started after it (a put started every ${WRITE_EVERY_MS} ms through the survivors)`,
      "s",
    ],
    [
      "failedWrites",
      `writes failed (one started every ${WRITE_EVERY_MS} ms, ${WRITE_TIMEOUT} timeout each)`,
      "writes",
    ],
    ["catchUpMs", "leader's host powered on -> it serves the write made while it was down", "s"],
    ["joinMs", "join a 4th member (whole pulumi-style run)", "s"],
    ["joinMemberStepMs", "join a 4th member: its member step (add learner, start, promote, healthy)", "s"],
  ];
  // Tries interleaved across profiles, so that a slow spell of the machine does not favour one profile.
  const samples = ETCD_PROFILES.map(() => ({}) as Record<string, number[]>);
  await withLab(LAB, async () => {
    for (let i = 0; i < tries; i++) {
      for (const [k, p] of ETCD_PROFILES.entries()) {
        log(`etcd try ${i + 1}/${tries}: ${p.name}`);
        const f = await oneTry(p, log);
        for (const [m, v] of Object.entries(f)) if (Number.isFinite(v)) (samples[k][m] ??= []).push(v);
      }
    }
  });
  // Same metric next to each other, profiles in their order.
  return metrics.flatMap(([m, label, unit]) =>
    ETCD_PROFILES.map((p, k) => ({ metric: label, profile: p.name, samples: samples[k][m] ?? [], unit })),
  );
}
