/**
 * Pure renderers for the files every KeepalivedVip member receives: keepalived.conf (built as a typed
 * object, then serialized), the systemd unit, and the health-check script. No Pulumi import.
 *
 * How the VIP behaves (also in README.md):
 * - VRRPv3, unicast to the other members by default. All members start as BACKUP; the highest effective
 *   priority wins the election.
 * - No `authentication` block: VRRP authentication exists only in VRRPv2 (RFC 3768 already dropped it),
 *   its password travels in clear text in every advertisement, and it protects against nothing an
 *   attacker on the segment cannot read. Keep VRRP (IP protocol 112) on a trusted network instead.
 * - The health check raises the member's priority (positive `weight`) instead of putting failing members
 *   in FAULT: a member advertises its base priority until its check passes and while it fails, and the
 *   weight is larger than the spread of the priorities, so any healthy member outranks any failing or
 *   unproven one, and the holder's failure moves the VIP to the best healthy member. When every check fails
 *   at once (first bootstrap, before any API server is up; an etcd election that fails /readyz everywhere)
 *   the order is kept and the VIP stays where it is instead of vanishing.
 * - `init_fail` with the positive weight: a (re)starting member counts as failing until its check first
 *   passes (keepalived then counts `rise` as reached), so a host that comes back cannot take the VIP
 *   before its API server (or HAProxy) answers. A negative weight would not do this: keepalived 2.2.7
 *   applies it only after the check's first result, and advertises the healthy priority until then.
 * - Preemption stays on (VRRP's default; `nopreempt` would keep a failing holder's VIP, since a lowered
 *   priority is not a failure to VRRP). So once healthy again, a member with a higher priority takes the
 *   VIP back; connections held through the VIP are reset then and clients reconnect.
 */
import { shQuote } from "../../shell";
import { CHECK_SCRIPT, CONFIG_FILE, INSTANCE_NAME, RUN_DIR, SCRIPT_NAME } from "../defaults";
import { KeepalivedMemberSettings, VipHealthCheckKind, VrrpTransport } from "../types";

/** A keepalived.conf block: `keyword {` items `}`; an item is a line or a nested block. */
export interface KeepalivedBlock {
  keyword: string;
  items: Array<string | KeepalivedBlock>;
}

export interface KeepalivedConfig {
  /** Comment lines at the top, without "# ". */
  comments: string[];
  blocks: KeepalivedBlock[];
}

/** "10.0.0.10/24": the VIP as it is added to and removed from the interface. */
export function vipWithPrefix(s: Pick<KeepalivedMemberSettings, "vip" | "prefixLength">): string {
  return `${s.vip}/${s.prefixLength}`;
}

/** Seconds as keepalived reads them: "0.3", "1". */
function seconds(n: number): string {
  return String(Number(n.toFixed(2)));
}

export function buildKeepalivedConfig(s: KeepalivedMemberSettings): KeepalivedConfig {
  const blocks: KeepalivedBlock[] = [
    {
      keyword: "global_defs",
      items: [
        `router_id ${s.name}`,
        "vrrp_version 3",
        // Scripts must be owned by root and not writable by anyone else. They run as root: the check
        // script drops privileges itself (see defaults.ts SCRIPT_USER for why not script_user).
        "enable_script_security",
        "script_user root",
      ],
    },
  ];
  if (s.check) {
    blocks.push({
      keyword: `vrrp_script ${SCRIPT_NAME}`,
      items: [
        `script "${CHECK_SCRIPT}"`,
        `interval ${s.check.intervalSeconds}`,
        `timeout ${s.check.timeoutSeconds}`,
        `fall ${s.check.fall}`,
        `rise ${s.check.rise}`,
        `weight ${s.check.weight}`,
        "init_fail",
      ],
    });
  }
  const instance: Array<string | KeepalivedBlock> = [
    "state BACKUP",
    `interface ${s.interface}`,
    `virtual_router_id ${s.virtualRouterId}`,
    `priority ${s.basePriority}`,
    `advert_int ${seconds(s.advertIntervalSeconds)}`,
  ];
  // A single member has no peer to advertise to; keepalived -t refuses unicast_src_ip without peers
  // (found in the lab with a one-master lab stack), so such a member gets neither.
  if (s.transport === VrrpTransport.Unicast && s.peers.length > 0) {
    instance.push(`unicast_src_ip ${s.address}`);
    instance.push({ keyword: "unicast_peer", items: [...s.peers] });
  }
  instance.push({ keyword: "virtual_ipaddress", items: [`${vipWithPrefix(s)} dev ${s.interface}`] });
  if (s.check) instance.push({ keyword: "track_script", items: [SCRIPT_NAME] });
  blocks.push({ keyword: `vrrp_instance ${INSTANCE_NAME}`, items: instance });
  const check = s.check
    ? `check: ${s.check.kind} every ${s.check.intervalSeconds} s, fall ${s.check.fall}, rise ${s.check.rise}, weight ${s.check.weight}`
    : "no health check";
  return {
    comments: [
      `Managed by hakube (KeepalivedVip ${s.component}, member ${s.name}); changes here are overwritten.`,
      `VIP ${vipWithPrefix(s)} on ${s.interface}, VRRPv3 ${s.transport}, priority ${s.priority}${s.check ? ` when healthy (${s.basePriority} until its check passes)` : ""}, ${check}.`,
      "No authentication block: VRRP authentication is VRRPv2-only and sends its password in clear text.",
    ],
    blocks,
  };
}

function renderBlock(b: KeepalivedBlock, depth: number): string[] {
  const pad = "    ".repeat(depth);
  const inner = b.items.flatMap((item) =>
    typeof item === "string" ? [`${pad}    ${item}`] : renderBlock(item, depth + 1),
  );
  return [`${pad}${b.keyword} {`, ...inner, `${pad}}`];
}

/** Serialize {@link buildKeepalivedConfig}: comments, then blocks separated by blank lines, trailing newline. */
export function renderKeepalivedConfig(s: KeepalivedMemberSettings): string {
  const c = buildKeepalivedConfig(s);
  const head = c.comments.map((l) => `# ${l}`).join("\n");
  return [head, ...c.blocks.map((b) => renderBlock(b, 0).join("\n"))].join("\n\n") + "\n";
}

/**
 * The systemd unit; it replaces the distribution's keepalived.service. A keepalived killed with SIGKILL
 * leaves its VIP on the interface (measured: two holders), so:
 * - ExecStopPost removes the VIP however keepalived ended (systemd runs it after a crash too);
 * - ExecStartPre removes a leftover before keepalived starts (it starts as BACKUP anyway);
 * - Restart=always brings keepalived back; with init_fail it claims nothing until its check passes;
 * - RuntimeDirectory holds the pid files and is emptied by systemd at every stop, so a stale pid file
 *   never blocks a restart ("daemon is already running").
 */
export function renderUnit(s: KeepalivedMemberSettings): string {
  const release = `/bin/sh -c ${shQuote(`ip address del ${vipWithPrefix(s)} dev ${s.interface} 2>/dev/null || true`)}`;
  return `# Managed by hakube (KeepalivedVip ${s.component}, member ${s.name}); changes here are overwritten.
# Replaces the distribution's keepalived.service. ExecStopPost releases the virtual IP however keepalived
# ended (a SIGKILLed keepalived leaves it on the interface), so a dead keepalived never holds it.
[Unit]
Description=keepalived: VRRP for the virtual IP ${s.vip} (hakube KeepalivedVip ${s.component})
Documentation=man:keepalived(8) man:keepalived.conf(5)
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
RuntimeDirectory=${RUN_DIR.replace(/^\/run\//, "")}
ExecStartPre=${release}
ExecStart=${s.binDir}/keepalived --dont-fork --vrrp --log-detail --use-file=${CONFIG_FILE} --pid=${RUN_DIR}/keepalived.pid --vrrp_pid=${RUN_DIR}/vrrp.pid
ExecReload=/bin/kill -HUP $MAINPID
ExecStopPost=${release}
Restart=always
RestartSec=1s

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The health-check script keepalived runs (as root, see defaults.ts SCRIPT_USER): exit 0 when the URL
 * answers 2xx within the timeout, non-zero otherwise (curl: 7 refused, 22 HTTP error, 28 timeout).
 * curl runs as the unprivileged script user when started as root. For the API server it uses --insecure:
 * the request goes to this host's own API server, proves readiness rather than identity, and carries no
 * credential (kube-apiserver serves /readyz to anonymous clients by default).
 */
export function renderCheckScript(s: KeepalivedMemberSettings): string {
  if (!s.check) throw new Error("renderCheckScript needs a health check");
  const c = s.check;
  const what =
    c.kind === VipHealthCheckKind.Haproxy
      ? "this host's HAProxy answers its monitor URI"
      : "this host's kube-apiserver is ready";
  const insecure = c.insecure ? " --insecure" : "";
  // A little below keepalived's own timeout, so that curl reports the timeout rather than being killed.
  const maxTime = seconds(c.timeoutSeconds * 0.8);
  return `#!/bin/sh
# Managed by hakube (KeepalivedVip ${s.component}, member ${s.name}); changes here are overwritten.
# keepalived's health check: exit 0 when ${what}, non-zero otherwise.
set -eu
URL=${shQuote(c.url)}
RUN_AS=${shQuote(s.scriptUser)}
set -- curl --silent --fail --noproxy '*'${insecure} --max-time ${maxTime} --output /dev/null "$URL"
if [ "$(id -u)" = 0 ]; then
  uid=$(id -u "$RUN_AS")
  gid=$(id -g "$RUN_AS")
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
fi
exec "$@"
`;
}
