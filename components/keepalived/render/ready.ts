/**
 * Pure renderers for KeepalivedVip's final check, which its `endpoint` output waits for:
 *
 * - probe (every member, after every member's keepalived is configured): waits until this member's view
 *   of the VIP has not changed for a few seconds, then prints whether it holds it; with the haproxy health
 *   check it also waits until the VIP's port accepts TCP connections (HAProxy on the holder). Not with
 *   apiServer or none: the API servers behind the VIP come after it, through its endpoint.
 * - check (first member, stdin = every probe's stdout): fails unless exactly one member holds the VIP.
 */
import { shAssignments, shFunctions, SH_RETRY, SH_TCP_OPEN } from "../../shell";
import { READY_STABLE_SECONDS } from "../defaults";
import type { VipReadySettings } from "../types";

/** The line each probe prints last: "hakube-vip <member> holder" or "hakube-vip <member> standby". */
export const PROBE_MARK = "hakube-vip";

/** Whether `name` holds the VIP, once that has settled; and that the VIP's port accepts connections. */
export function renderVipProbeScript(s: VipReadySettings, name: string): string {
  const hostBits = s.vip.includes(":") ? 128 : 32;
  return [
    `# hakube KeepalivedVip ${s.component}: does ${name} hold ${s.vip}, and does ${s.endpoint} accept connections?`,
    "set -eu",
    shAssignments([
      ["NAME", name],
      ["IFACE", s.interface],
      ["VIP", s.vip],
      ["VIP_BITS", hostBits],
      ["PORT", s.port],
      ["TIMEOUT", s.timeoutSeconds],
      ["STABLE", READY_STABLE_SECONDS],
    ]),
    shFunctions(`hakube keepalived ${s.component}/${name}`),
    SH_RETRY,
    `systemctl is-active --quiet keepalived || fail "keepalived is not running on $NAME: the configure step must run first"
holds() { ip -o address show dev "$IFACE" to "$VIP/$VIP_BITS" | grep -q .; }
state=none same=0
settled() {
  if holds; then now=holder; else now=standby; fi
  if [ "$now" = "$state" ]; then same=$((same + 1)); else state=$now same=0; fi
  [ "$same" -ge "$STABLE" ]
}
retry "$TIMEOUT" "the VIP $VIP kept moving on $NAME (VRRP between the members blocked? allow IP protocol 112)" settled`,
    ...(s.connect
      ? [
          SH_TCP_OPEN,
          `retry "$TIMEOUT" "nothing accepts connections on ${s.endpoint} (a LoadBalancer must listen there, on the member that holds the VIP)" tcp_open "$VIP" "$PORT"
say "${s.endpoint} accepts connections"`,
        ]
      : []),
    `echo "${PROBE_MARK} $NAME $state"`,
    "",
  ].join("\n");
}

/** Exactly one member holds the VIP: read from the probes' output on stdin. */
export function renderVipCheckScript(s: VipReadySettings, members: readonly string[]): string {
  return [
    `# hakube KeepalivedVip ${s.component}: exactly one member holds ${s.vip}`,
    "set -eu",
    shAssignments([
      ["VIP", s.vip],
      ["MEMBERS", members.length],
    ]),
    shFunctions(`hakube keepalived ${s.component}`),
    `reports=$(grep '^${PROBE_MARK} ' || true)
[ "$(printf '%s\\n' "$reports" | grep -c .)" = "$MEMBERS" ] || fail "expected a report from each of the $MEMBERS members, got: $reports"
holders=$(printf '%s\\n' "$reports" | awk '$3 == "holder" { print $2 }' | tr '\\n' ' ')
count=$(printf '%s\\n' "$reports" | awk '$3 == "holder"' | grep -c . || true)
[ "$count" = 1 ] || fail "the virtual IP $VIP is held by $count members (\${holders:-none}); it must be held by exactly one (VRRP between the members blocked? allow IP protocol 112)"
say "the virtual IP $VIP is held by \${holders% }${s.connect ? ` and ${s.endpoint} accepts connections` : ""}"`,
    "",
  ].join("\n");
}
