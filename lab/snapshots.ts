/**
 * EtcdCluster's scheduled snapshots as the lab sees them on each member: the newest snapshot whose sha256
 * file matches it (the last good one) and its age, and whether the snapshot unit's last run failed. Used by
 * `npm run lab -- status` and the day-2 lab test; each good run of the snapshot unit timed from the member's
 * journal (the day-2 benchmark and test); copying a snapshot between hosts; and etcd's raised alarms (NOSPACE).
 */
import type { ClientFiles } from "./deploy";
import { etcdctl } from "./etcdctl";
import { exec, Lab } from "./hosts";

export interface SnapshotStatus {
  member: string;
  /** false: no snapshot timer on this member (EtcdCluster without `backup`). */
  scheduled: boolean;
  /** etcd-backup.service: "inactive" after a good run, "failed" after a failed one, "activating" during one. */
  unit?: string;
  /** The newest snapshot that matches its sha256 file. */
  lastGood?: string;
  /** Its age in seconds (the member's clock, file mtime). */
  ageSeconds?: number;
  error?: string;
}

/** Runs on the member: reads the snapshot directory from the installed snapshot script. */
const PROBE = `f=/etc/etcd/backup/snapshot.sh
[ -f "$f" ] || { echo none; exit 0; }
dir=$(sed -n "s/^DIR='\\(.*\\)'$/\\1/p" "$f")
echo "unit $(systemctl is-failed etcd-backup.service 2>/dev/null || true)"
for s in $(ls -1 "$dir" 2>/dev/null | grep '\\.db$' | sort -r); do
  if [ -f "$dir/$s.sha256" ] && (cd "$dir" && sha256sum -c --status "$s.sha256"); then
    echo "last $dir/$s $(( $(date +%s) - $(stat -c %Y "$dir/$s") ))"
    break
  fi
done`;

export async function snapshotStatus(lab: Lab, member: string): Promise<SnapshotStatus> {
  const r = await exec(lab, member, PROBE, { timeoutMs: 30_000 });
  if (r.code !== 0) return { member, scheduled: false, error: r.stderr.trim().split("\n").pop() };
  if (r.stdout.trim() === "none") return { member, scheduled: false };
  const unit = /^unit (\S+)/m.exec(r.stdout)?.[1];
  const last = /^last (\S+) (-?\d+)$/m.exec(r.stdout);
  return {
    member,
    scheduled: true,
    unit,
    lastGood: last?.[1],
    ageSeconds: last ? Number(last[2]) : undefined,
  };
}

/** One line for the status: "snapshots: last good 12 s ago (<file>), last run ok". */
export function describeSnapshots(s: SnapshotStatus): string {
  if (s.error) return `snapshots: unknown (${s.error})`;
  if (!s.scheduled) return "snapshots: not scheduled";
  const last = s.lastGood ? `last good ${s.ageSeconds} s ago (${s.lastGood})` : "NO good snapshot yet";
  return `snapshots: ${last}, last run ${s.unit === "failed" ? "FAILED (journalctl -u etcd-backup)" : "ok"}`;
}

/** etcd's raised alarms (`alarm list`: "memberID:<hex> alarm:NOSPACE"), such as NOSPACE once the quota is full. */
export async function etcdAlarms(files: ClientFiles, endpoints: string[]): Promise<string[]> {
  if (endpoints.length === 0) return [];
  const r = await etcdctl(["alarm", "list"], { files, endpoints, commandTimeout: "3s" });
  if (r.code !== 0) return [`alarm list failed: ${r.stderr.trim().split("\n").pop()}`];
  return r.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** One good run of a member's snapshot unit, from its journal. */
export interface SnapshotRun {
  member: string;
  /** systemd's "Starting" and the unit's end (its job done), ms since the epoch. */
  startedAt: number;
  finishedAt: number;
  /** The snapshot the run wrote: its path on the member, revision, keys and sha256. */
  file: string;
  revision: number;
  keys: number;
  sha256: string;
}

/** The snapshot script's line about its snapshot (components/etcd/render/backup.ts). */
const SNAPSHOT_LINE = /snapshot (\S+): revision (\d+), (\d+) keys, sha256 ([0-9a-f]{64})/;
/** systemd's message ids: a unit's job starting, and its start job done (for a oneshot: it finished). */
const UNIT_STARTING = "7d4958e842da4a758f6c1cdc7b36dcc5";
const UNIT_STARTED = "39f53479d3a045ac8e11786248231fbf";

/**
 * The good runs of etcd-backup.service on `member` (those that wrote a snapshot and finished), oldest
 * first, from its journal (since `sinceMs` when given): timed by systemd's own messages.
 */
export async function snapshotRuns(lab: Lab, member: string, sinceMs?: number): Promise<SnapshotRun[]> {
  const since = sinceMs === undefined ? "" : `--since @${Math.floor(sinceMs / 1000)}`;
  const r = await exec(
    lab,
    member,
    `journalctl -u etcd-backup.service ${since} -o json --output-fields=MESSAGE,MESSAGE_ID --no-pager`,
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(`${member}: journalctl -u etcd-backup.service: ${r.stderr.trim()}`);
  const runs: SnapshotRun[] = [];
  let run: Partial<SnapshotRun> | undefined;
  for (const line of r.stdout.split("\n").filter((l) => l.startsWith("{"))) {
    const e = JSON.parse(line) as { __REALTIME_TIMESTAMP: string; MESSAGE?: unknown; MESSAGE_ID?: string };
    const at = Math.round(Number(e.__REALTIME_TIMESTAMP) / 1000);
    const message = typeof e.MESSAGE === "string" ? e.MESSAGE : "";
    const s = SNAPSHOT_LINE.exec(message);
    // By id, or by systemd's wording where a journal lacks the ids.
    if (e.MESSAGE_ID === UNIT_STARTING || /^Starting /.test(message)) run = { member, startedAt: at };
    else if (s && run)
      Object.assign(run, { file: s[1], revision: Number(s[2]), keys: Number(s[3]), sha256: s[4] });
    else if ((e.MESSAGE_ID === UNIT_STARTED || /^Finished /.test(message)) && run?.file) {
      runs.push({ ...(run as SnapshotRun), finishedAt: at });
      run = undefined;
    }
  }
  return runs.filter((x) => sinceMs === undefined || x.startedAt >= sinceMs);
}

/** Copies `file` from one host to `dest` on others (base64 through the lab's exec, no network needed). */
export async function copyBetweenHosts(
  lab: Lab,
  from: string,
  file: string,
  to: readonly string[],
  dest: string,
): Promise<void> {
  const data = await exec(lab, from, `base64 -w0 ${file}`, { timeoutMs: 60_000 });
  if (data.code !== 0) throw new Error(`${from}: reading ${file}: ${data.stderr.trim()}`);
  for (const h of to) {
    const w = await exec(lab, h, `base64 -d > ${dest}`, { input: data.stdout, timeoutMs: 60_000 });
    if (w.code !== 0) throw new Error(`${h}: writing ${dest}: ${w.stderr.trim()}`);
  }
}
