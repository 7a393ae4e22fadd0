/**
 * Pure renderers for the scripts that KeepalivedVip runs on its members over SSH. POSIX sh, idempotent,
 * print what they changed, fail with a message that says what to do.
 *
 * - install: keepalived (2.0 or later) and, with a health check, curl from the OS packages (or checks
 *   preinstalled ones); setpriv; the unprivileged user the check's curl runs as.
 * - configure: preflight (interface exists, the member's address is on it), the check script, the unit,
 *   then keepalived.conf: written beside the old one, checked with `keepalived -t` (which also checks
 *   that the interface exists), and only then moved into place. A changed unit restarts keepalived, a
 *   changed configuration reloads it (SIGHUP); an unchanged member is left alone.
 * - remove (delete): stops and disables keepalived, releases the VIP, removes hakube's files.
 */
import { heredoc, shAssignments, shCheckedPutConfig, shFunctions, shWaitActive } from "../../shell";
import { SH_INSTALL_PACKAGES, shRequireVersion } from "../../packages";
import { InstallMethod } from "../../install";
import {
  CHECK_SCRIPT,
  CONFIG_DIR,
  CONFIG_FILE,
  MIN_KEEPALIVED_VERSION,
  START_TIMEOUT_SECONDS,
  UNIT_FILE,
} from "../defaults";
import { KeepalivedInstallSettings, KeepalivedMemberSettings, VrrpTransport } from "../types";
import { renderCheckScript, renderKeepalivedConfig, renderUnit, vipWithPrefix } from "./config";

export type { KeepalivedInstallSettings } from "../types";

function prefix(component: string, name: string): string {
  return `hakube keepalived ${component}/${name}`;
}

/** Install (or check) keepalived and what the health check needs. */
export function renderKeepalivedInstallScript(s: KeepalivedInstallSettings): string {
  const [major, minor] = MIN_KEEPALIVED_VERSION;
  const get =
    s.method === InstallMethod.Package
      ? `need=""
[ -x "$KEEPALIVED" ] || need="keepalived"
${s.needsCheckTools ? `command -v curl >/dev/null 2>&1 || need="$need curl"\n` : ""}if [ -n "$need" ]; then
  install_packages $need
else
  say "keepalived${s.needsCheckTools ? " and curl are" : " is"} already installed"
fi`
      : `say "install.method is preinstalled: checking $KEEPALIVED"`;
  const tools = s.needsCheckTools
    ? `command -v curl >/dev/null 2>&1 || fail "curl is not installed: the health check needs it"
command -v setpriv >/dev/null 2>&1 || fail "setpriv (util-linux) is not installed: the health check drops privileges with it"
if ! getent passwd "$SCRIPT_USER" >/dev/null; then
  useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$SCRIPT_USER"
  say "created user $SCRIPT_USER (runs the health check's curl)"
fi
`
    : "";
  return [
    `# hakube KeepalivedVip ${s.component}: install keepalived on ${s.name} (${s.method})`,
    "set -eu",
    shAssignments([
      ["KEEPALIVED", `${s.binDir}/keepalived`],
      ["SCRIPT_USER", s.scriptUser],
    ]),
    shFunctions(prefix(s.component, s.name)),
    ...(s.method === InstallMethod.Package ? [SH_INSTALL_PACKAGES] : []),
    shRequireVersion(major, minor),
    get,
    `[ -x "$KEEPALIVED" ] || fail "$KEEPALIVED does not exist: install keepalived ${major}.${minor} or later, or use install.method package"
require_version "$("$KEEPALIVED" --version 2>&1 | sed -n 's/^Keepalived v\\([0-9][0-9.]*\\).*/\\1/p' | head -n 1)" keepalived
${tools}install -d -m 0755 -o root -g root ${CONFIG_DIR}`,
    "",
  ].join("\n");
}

/** Check script, unit and keepalived.conf (checked first); then restart, reload or start keepalived. */
export function renderKeepalivedConfigureScript(s: KeepalivedMemberSettings): string {
  const preflight = [
    `[ -x "$KEEPALIVED" ] || fail "keepalived is not installed at $KEEPALIVED: the install step must run first"`,
    `ip link show dev "$IFACE" >/dev/null 2>&1 || fail "interface $IFACE does not exist on $NAME; interface must name the VIP's interface, the same on every member"`,
  ];
  if (s.transport === VrrpTransport.Unicast) {
    preflight.push(
      `ip -o address show dev "$IFACE" | grep -q " $ADDRESS/" || fail "$ADDRESS is not an address of $IFACE on $NAME: VRRP advertisements are sent from it (unicast_src_ip), so it must be on the VIP's interface"`,
    );
  }
  const check = s.check
    ? [
        `getent passwd "$SCRIPT_USER" >/dev/null || fail "user $SCRIPT_USER does not exist: the install step must run first"`,
        heredoc(`put ${CHECK_SCRIPT} 0755 root:root`, renderCheckScript(s)),
      ].join("\n")
    : `if [ -e ${CHECK_SCRIPT} ]; then rm -f ${CHECK_SCRIPT}; say "removed ${CHECK_SCRIPT} (no health check)"; fi`;
  return [
    `# hakube KeepalivedVip ${s.component}: configure keepalived on ${s.name}`,
    "set -eu",
    shAssignments([
      ["NAME", s.name],
      ["IFACE", s.interface],
      ["ADDRESS", s.address],
      ["VIP", vipWithPrefix(s)],
      ["KEEPALIVED", `${s.binDir}/keepalived`],
      ["CONFIG", CONFIG_FILE],
      ["SCRIPT_USER", s.scriptUser],
      ["TIMEOUT", START_TIMEOUT_SECONDS],
    ]),
    shFunctions(prefix(s.component, s.name)),
    ...preflight,
    `install -d -m 0755 -o root -g root ${CONFIG_DIR}`,
    "# The check script first: keepalived -t refuses a configuration whose script is missing or insecure.",
    check,
    `# The new keepalived.conf is checked (keywords, values, the interface, the script) before it replaces
# the one in use; the unit is written only after that, so a refused configuration changes nothing that
# a later run would not apply.`,
    shCheckedPutConfig(`"$KEEPALIVED" -t`, "keepalived -t", renderKeepalivedConfig(s)),
    `CHANGED_BEFORE_UNIT=$CHANGED
CHANGED=0`,
    heredoc(`put ${UNIT_FILE} 0644 root:root`, renderUnit(s)),
    `UNIT_CHANGED=$CHANGED
[ "$CHANGED_BEFORE_UNIT" = 0 ] || CHANGED=1
if [ "$UNIT_CHANGED" = 1 ]; then systemctl daemon-reload; fi
if [ "$CHANGED" = 0 ] && systemctl is-active --quiet keepalived; then
  say "configuration is unchanged; keepalived is running"
  exit 0
fi
systemctl enable --quiet keepalived
if [ "$UNIT_CHANGED" = 0 ] && systemctl is-active --quiet keepalived; then
  systemctl reload keepalived
  say "reloaded keepalived with the new configuration"
else
  # A restart releases the VIP if this member holds it (ExecStopPost); another member takes it over.
  systemctl restart keepalived
  say "(re)started keepalived"
fi
${shWaitActive("keepalived")}
if ip -o address show dev "$IFACE" | grep -q " $VIP "; then
  say "keepalived is active; this member holds $VIP"
else
  say "keepalived is active; this member does not hold $VIP at the moment"
fi`,
    "",
  ].join("\n");
}

/** Stop and disable keepalived, release the VIP, remove hakube's files. */
export function renderKeepalivedRemoveScript(s: KeepalivedMemberSettings): string {
  return [
    `# hakube KeepalivedVip ${s.component}: remove keepalived's configuration on ${s.name}`,
    "set -eu",
    shAssignments([
      ["IFACE", s.interface],
      ["VIP", vipWithPrefix(s)],
    ]),
    shFunctions(prefix(s.component, s.name)),
    `systemctl disable --now --quiet keepalived 2>/dev/null || true
ip address del "$VIP" dev "$IFACE" 2>/dev/null || true
rm -f ${CONFIG_FILE} ${CHECK_SCRIPT} ${UNIT_FILE}
systemctl daemon-reload
say "keepalived stopped and disabled, $VIP released, hakube's files removed; the package is left installed"`,
    "",
  ].join("\n");
}
