/**
 * EtcdCluster day 2: scheduled defragmentation (`defrag`). Args, validation, settings and renderers (the
 * script each member's timer runs, the service and timer, install and remove). Pure: no Pulumi import.
 *
 * etcd keeps the space of deleted and compacted keys inside its database file until a member is
 * defragmented; a file that only grows ends in the NOSPACE alarm (writes refused). `etcdctl defrag` pauses
 * the member it runs on (no reads or writes there meanwhile), so: one member at a time, on the same wall-
 * clock schedule as the snapshots (member i of n at `i * interval / n` into each period), and only when
 * every roster member is healthy, so the cluster keeps quorum and its fault tolerance while one pauses.
 */
import { heredoc, shAssignments, shFunctions } from "../shell";
import { Problem, show } from "../validation";
import { isCalendarInterval, memberSchedule, MemberSchedule, MIN_BACKUP_INTERVAL_SECONDS } from "./backup";
import { renderScheduleService, renderScheduleTimer, shStartTimer } from "./render/backup";
import { ROSTER_FILE } from "./defaults";
import { PKI_FILES } from "./render/config";

/** Scheduled defragmentation of each member, one member at a time, while every member is healthy. */
export interface EtcdDefragArgs {
  /**
   * Seconds between two defragmentations of one member; the same rule as backup.intervalSeconds (a
   * divisor of a minute, an hour or a day). @default 86400 (daily; etcd's docs ask for periodic defrag)
   */
  intervalSeconds?: number;
}

export const DEFAULT_DEFRAG_INTERVAL_SECONDS = 86400;
export const DEFRAG_SCRIPT = "/etc/etcd/defrag.sh";
export const DEFRAG_SERVICE = "etcd-defrag.service";
export const DEFRAG_TIMER = "etcd-defrag.timer";

export function defragProblems(d: unknown): Problem[] {
  if (d === undefined) return [];
  if (d === null || typeof d !== "object" || Array.isArray(d)) {
    return [{ path: "defrag", message: `defrag must be an object with intervalSeconds, got ${show(d)}` }];
  }
  const s = (d as EtcdDefragArgs).intervalSeconds;
  if (s !== undefined && !isCalendarInterval(s)) {
    return [
      {
        path: "defrag.intervalSeconds",
        message: `defrag.intervalSeconds must be whole seconds, at least ${MIN_BACKUP_INTERVAL_SECONDS}, that divide a minute, an hour in whole minutes or a day in whole hours (such as 3600, 21600, 86400), got ${show(s)}`,
      },
    ];
  }
  return [];
}

/** A member's defragmentation: its turn on the schedule (the snapshots' wall-clock rule). */
export type EtcdDefragSettings = MemberSchedule;

export function resolveDefrag(
  d: EtcdDefragArgs,
  m: { cluster: string; name: string; clientPort: number; binDir: string },
  index: number,
  count: number,
): EtcdDefragSettings {
  return memberSchedule(d.intervalSeconds ?? DEFAULT_DEFRAG_INTERVAL_SECONDS, m, index, count);
}

const SH_DEFRAG = `ctl() { ETCDCTL_API=3 "$ETCDCTL" --cacert=${PKI_FILES.ca} --cert=${PKI_FILES.serverCert} --key=${PKI_FILES.serverKey} --dial-timeout=3s "$@"; }
all=$(awk '{ print $3 }' "$ROSTER" | paste -sd, -)
[ -n "$all" ] || fail "no roster in $ROSTER"
# Every member healthy: the cluster keeps quorum and its fault tolerance while this one pauses.
out=$(ctl --command-timeout=5s --endpoints="$all" endpoint health 2>&1) || fail "not every member is healthy, so $NAME is not defragmented now: $out"
size() { ctl --command-timeout=5s --endpoints="$ENDPOINT" endpoint status -w simple | awk -F', ' '{ print $4 }'; }
before=$(size)
out=$(ctl --command-timeout=300s --endpoints="$ENDPOINT" defrag 2>&1) || fail "etcdctl defrag failed: $out"
say "defragmented $NAME: database $before -> $(size)"`;

export function renderDefragScript(s: EtcdDefragSettings): string {
  return [
    "#!/bin/sh",
    `# Managed by hakube (EtcdCluster ${s.cluster}): defragment member ${s.name}, run by ${DEFRAG_SERVICE}.`,
    "set -eu",
    shAssignments([
      ["NAME", s.name],
      ["ENDPOINT", s.endpoint],
      ["ETCDCTL", `${s.binDir}/etcdctl`],
      ["ROSTER", ROSTER_FILE],
    ]),
    shFunctions(`hakube etcd-defrag ${s.cluster}/${s.name}`),
    SH_DEFRAG,
    "",
  ].join("\n");
}

export function renderDefragService(s: EtcdDefragSettings): string {
  return renderScheduleService(s, "defragmentation", DEFRAG_SCRIPT, ["TimeoutStartSec=600"]);
}

export function renderDefragTimer(s: EtcdDefragSettings): string {
  return renderScheduleTimer(s, "defragmentation", DEFRAG_SERVICE);
}

export function renderDefragInstallScript(s: EtcdDefragSettings): string {
  return [
    `# hakube EtcdCluster ${s.cluster}: scheduled defragmentation on ${s.name}`,
    "set -eu",
    shFunctions(`hakube etcd ${s.cluster}/${s.name}`),
    `[ -x ${s.binDir}/etcdctl ] || fail "etcdctl is not in ${s.binDir}: the install step must run first"`,
    heredoc(`put ${DEFRAG_SCRIPT} 0700 root:root`, renderDefragScript(s)),
    heredoc(`put /etc/systemd/system/${DEFRAG_SERVICE} 0644 root:root`, renderDefragService(s)),
    heredoc(`put /etc/systemd/system/${DEFRAG_TIMER} 0644 root:root`, renderDefragTimer(s)),
    shStartTimer(DEFRAG_TIMER, "defrag", s.calendar),
    "",
  ].join("\n");
}

export function renderDefragRemoveScript(s: Pick<EtcdDefragSettings, "cluster" | "name">): string {
  return [
    `# hakube EtcdCluster ${s.cluster}: remove scheduled defragmentation on ${s.name}`,
    "set -eu",
    `systemctl disable --now --quiet ${DEFRAG_TIMER} 2>/dev/null || true`,
    `rm -f ${DEFRAG_SCRIPT} /etc/systemd/system/${DEFRAG_SERVICE} /etc/systemd/system/${DEFRAG_TIMER}`,
    "systemctl daemon-reload",
    "",
  ].join("\n");
}
