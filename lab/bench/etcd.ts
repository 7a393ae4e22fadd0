/**
 * etcd benchmark on the lab: for each timing profile, over several fresh clusters, how long hakube takes
 * to deploy and form a 3-member cluster, how long writes fail after the leader's host dies, how long the
 * returning host takes to catch up, and how long one join (3 -> 4) takes. Profiles side by side in one
 * run: hakube's default (etcd upstream, heartbeat 100 ms / election 1000 ms) and kubespray's (250/5000).
 *
 *   npm run bench -- etcd [--tries 5]
 */
import { deployEtcd } from "../deploy";
import { endpointStatus, etcdctl } from "../etcdctl";
import { createLab, destroyLab, powerOff, powerOn } from "../hosts";
import { withLab } from "./cleanup";
import { Row } from "./stats";
import { LAB_NAMES, LAB_SUBNETS } from "../hosts/subnets";

const LAB = LAB_NAMES.etcdBench;
const SUBNET = LAB_SUBNETS.etcdBench;

interface Profile {
  name: string;
  heartbeat: number;
  election: number;
}

export const ETCD_PROFILES: Profile[] = [
  { name: "hakube default (100/1000 ms, etcd upstream)", heartbeat: 100, election: 1000 },
  { name: "kubespray (250/5000 ms)", heartbeat: 250, election: 5000 },
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
    etcdHeartbeatIntervalMs: p.heartbeat,
    etcdElectionTimeoutMs: p.election,
  };
  // Hosts first (not timed), then the deployment.
  await createLab({ name: LAB, hosts: 4, subnetIndex: SUBNET });
  const t0 = Date.now();
  const r = await deployEtcd({ ...opts, members: 3, log: runnerLog });
  const deployMs = Date.now() - t0;
  const formationMs = stamps.healthy - stamps.firstMember;

  const status = await endpointStatus(r.files, r.endpoints);
  const leader = status.find((s) => s.leader)!.endpoint;
  const leaderHost = r.lab.hosts.find((h) => leader.includes(`//${h.address}:`))!.name;
  const survivors = r.endpoints.filter((e) => e !== leader);
  const killed = Date.now();
  await powerOff(r.lab, leaderHost);
  const put = async () =>
    (await etcdctl(["put", "bench", "x"], { files: r.files, endpoints: survivors, commandTimeout: "1s" }))
      .code === 0;
  await until("a write after the leader died", 60_000, put);
  const writeGapMs = Date.now() - killed;
  const back = Date.now();
  await powerOn(r.lab, leaderHost);
  const get = async () => {
    const g = await etcdctl(["get", "bench", "--print-value-only", "--consistency=s"], {
      files: r.files,
      endpoints: [leader],
      commandTimeout: "1s",
    });
    return g.code === 0 && g.stdout.trim() === "x";
  };
  await until("the returning member to catch up", 120_000, get);
  const catchUpMs = Date.now() - back;

  const j0 = Date.now();
  await deployEtcd({ ...opts, members: 4, log: runnerLog });
  const joinMs = Date.now() - j0;
  log(
    `  ${p.name}: deploy ${deployMs} ms, formation ${formationMs} ms, write gap ${writeGapMs} ms, catch-up ${catchUpMs} ms, join ${joinMs} ms`,
  );
  return { deployMs, formationMs, writeGapMs, catchUpMs, joinMs, joinMemberStepMs: stamps.m4member };
}

export async function benchEtcd(tries: number, log: (l: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const metrics: Array<[string, string]> = [
    ["deployMs", "deploy 3 members on fresh hosts (install, certificates, configure, form, health gate)"],
    ["formationMs", "formation: first member step to health gate passed"],
    ["writeGapMs", "leader's host powered off -> first successful write through the survivors"],
    ["catchUpMs", "leader's host powered on -> it serves the write made while it was down"],
    ["joinMs", "join a 4th member (whole pulumi-style run)"],
    ["joinMemberStepMs", "join a 4th member: its member step (add learner, start, promote, healthy)"],
  ];
  await withLab(LAB, async () => {
    for (const p of ETCD_PROFILES) {
      const samples: Record<string, number[]> = {};
      for (let i = 0; i < tries; i++) {
        const f = await oneTry(p, log);
        for (const [k, v] of Object.entries(f)) (samples[k] ??= []).push(v);
      }
      for (const [k, label] of metrics)
        rows.push({ metric: label, profile: p.name, samples: samples[k] ?? [], unit: "s" });
    }
  });
  // Same metric next to each other: sort by metric, keep profile order.
  return metrics.flatMap(([, label]) => rows.filter((r) => r.metric === label));
}
