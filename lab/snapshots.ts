/**
 * EtcdCluster's scheduled snapshots as the lab sees them on each member: the newest snapshot whose sha256
 * file matches it (the last good one) and its age, and whether the snapshot unit's last run failed. Used by
 * `npm run lab -- status` and the day-2 lab test; and etcd's raised alarms (NOSPACE).
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
