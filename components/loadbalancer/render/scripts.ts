/**
 * Pure renderers for the scripts that LoadBalancer (kind haproxy) runs on its hosts over SSH. POSIX sh,
 * idempotent, print what they changed, fail with a message that says what to do.
 *
 * - install: HAProxy from the OS packages (or checks a preinstalled one): 2.0 or later, the
 *   distribution's haproxy.service (master-worker, `haproxy -Ws`), the haproxy user and chroot directory.
 * - configure: the sysctl file (when binding a specific address), the backends' CA (stdin), then
 *   haproxy.cfg: written beside the old one, checked with `haproxy -c`, and only then moved into place and
 *   applied with `systemctl reload` (no connection dropped). An unchanged host is left alone.
 * - remove (delete): stops and disables HAProxy and removes hakube's sysctl and CA files.
 */
import {
  heredoc,
  renderFileBundle,
  shAssignments,
  shCheckedPutConfig,
  shFunctions,
  shWaitActive,
  SH_PUT_BUNDLE_FROM_STDIN,
  HostFile,
} from "../../shell";
import {
  HAPROXY_CA_FILE,
  HAPROXY_CHROOT,
  HAPROXY_CONFIG_FILE,
  HAPROXY_SYSCTL_FILE,
  MIN_HAPROXY_VERSION,
} from "../defaults";
import { HaproxySettings } from "../settings";
import { InstallMethod } from "../../install";
import { nonlocalBindKey, renderHaproxyConfig, renderSysctlFile } from "./haproxy";
import { SH_INSTALL_PACKAGES, shRequireVersion } from "../../packages";

export { renderFileBundle };

/** How long the configure step waits for haproxy.service to be active after a start. */
export const START_TIMEOUT_SECONDS = 60;

function prefix(s: HaproxySettings, host: string): string {
  return `hakube haproxy ${s.component}/${host}`;
}

/** Install (or check) HAProxy. */
export function renderHaproxyInstallScript(s: HaproxySettings, host: string): string {
  const [major, minor] = MIN_HAPROXY_VERSION;
  const get =
    s.method === InstallMethod.Package
      ? `if [ -x "$HAPROXY" ]; then
  say "haproxy is already installed"
else
  install_packages haproxy
fi`
      : `say "install.method is preinstalled: checking $HAPROXY"`;
  return [
    `# hakube LoadBalancer ${s.component}: install HAProxy on ${host} (${s.method})`,
    "set -eu",
    shAssignments([["HAPROXY", `${s.binDir}/haproxy`]]),
    shFunctions(prefix(s, host)),
    ...(s.method === InstallMethod.Package ? [SH_INSTALL_PACKAGES] : []),
    shRequireVersion(major, minor),
    get,
    `[ -x "$HAPROXY" ] || fail "$HAPROXY does not exist: install HAProxy ${major}.${minor} or later, or use install.method package"
require_version "$("$HAPROXY" -v 2>/dev/null | sed -n 's/^HA-\\{0,1\\}Proxy version \\([0-9][0-9.]*\\).*/\\1/p' | head -n 1)" haproxy
systemctl cat haproxy.service >/dev/null 2>&1 || fail "there is no haproxy.service unit: hakube uses the distribution's (master-worker, reload with USR2)"
if ! getent passwd haproxy >/dev/null; then
  useradd --system --user-group --home-dir ${HAPROXY_CHROOT} --no-create-home --shell /usr/sbin/nologin haproxy
  say "created user haproxy"
fi
install -d -m 0755 -o root -g root ${HAPROXY_CHROOT}`,
    "",
  ].join("\n");
}

/** The CA file for the backends' checks, for the configure step's stdin (empty list without a CA). */
export function haproxyCaFiles(caPem: string | undefined): HostFile[] {
  return caPem === undefined
    ? []
    : [{ path: HAPROXY_CA_FILE, mode: "0644", owner: "root:root", content: caPem }];
}

/** Remove a file hakube once wrote, if it is there; counts as a change. */
function shRemoveIfPresent(path: string, why: string): string {
  return `if [ -e ${path} ]; then
  rm -f ${path}
  CHANGED=1
  say "removed ${path} (${why})"
fi`;
}

/** Write sysctl, CA and haproxy.cfg (checked first), then reload or start HAProxy. stdin: the CA bundle. */
export function renderHaproxyConfigureScript(s: HaproxySettings, host: string): string {
  const sysctl = s.nonlocalBind
    ? [
        `# ${s.bindAddress} may be held by another host: allow binding it (also after a reboot).`,
        heredoc(`put ${HAPROXY_SYSCTL_FILE} 0644 root:root`, renderSysctlFile(s)),
        `sysctl -q -p ${HAPROXY_SYSCTL_FILE} >/dev/null || fail "sysctl -p ${HAPROXY_SYSCTL_FILE} failed"
[ "$(sysctl -n ${nonlocalBindKey(s.nonlocalBind)})" = 1 ] || fail "${nonlocalBindKey(s.nonlocalBind)} is not 1 after sysctl -p; HAProxy could not bind ${s.bindAddress} while another host holds it"`,
      ].join("\n")
    : shRemoveIfPresent(HAPROXY_SYSCTL_FILE, "no bindAddress any more");
  return [
    `# hakube LoadBalancer ${s.component}: configure HAProxy on ${host}`,
    "set -eu",
    shAssignments([
      ["HAPROXY", `${s.binDir}/haproxy`],
      ["CONFIG", HAPROXY_CONFIG_FILE],
      ["TIMEOUT", START_TIMEOUT_SECONDS],
    ]),
    shFunctions(prefix(s, host)),
    `[ -x "$HAPROXY" ] || fail "HAProxy is not installed at $HAPROXY: the install step must run first"`,
    sysctl,
    "# The backends' CA (when verifying): one line per file on stdin (path, mode, owner, base64).",
    SH_PUT_BUNDLE_FROM_STDIN,
    s.caFile ? "" : shRemoveIfPresent(HAPROXY_CA_FILE, "checks no longer verify a CA"),
    "# The new configuration is checked before it replaces the one in use.",
    shCheckedPutConfig(`"$HAPROXY" -c`, "haproxy -c", renderHaproxyConfig(s)),
    `if [ "$CHANGED" = 0 ] && systemctl is-active --quiet haproxy; then
  say "configuration is unchanged; haproxy is running"
  exit 0
fi
systemctl enable --quiet haproxy
if systemctl is-active --quiet haproxy; then
  # Master-worker reload: the distribution's unit checks the file again, the new worker takes over the
  # listening sockets, the old one finishes its connections.
  systemctl reload haproxy
  say "reloaded haproxy with the new configuration"
else
  systemctl restart haproxy
  say "started haproxy"
fi
${shWaitActive("haproxy")}`,
    "",
  ]
    .filter((part) => part !== "")
    .join("\n")
    .concat("\n");
}

/** Stop and disable HAProxy; remove hakube's sysctl and CA files. */
export function renderHaproxyRemoveScript(s: HaproxySettings, host: string): string {
  return [
    `# hakube LoadBalancer ${s.component}: remove HAProxy's configuration on ${host}`,
    "set -eu",
    shFunctions(prefix(s, host)),
    `systemctl disable --now --quiet haproxy 2>/dev/null || true
rm -f ${HAPROXY_SYSCTL_FILE} ${HAPROXY_CA_FILE}
say "haproxy stopped and disabled; ${HAPROXY_CONFIG_FILE} and the package are left in place, ip_nonlocal_bind keeps its value until the next boot"`,
    "",
  ].join("\n");
}
