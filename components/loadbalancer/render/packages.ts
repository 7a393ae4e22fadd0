/**
 * Shell for installing OS packages on a host, shared by the HAProxy and keepalived install scripts.
 * Pure: no Pulumi import.
 */

/**
 * `install_packages PKG...`: apt-get (Debian, Ubuntu), dnf or yum (RHEL family), in that order of
 * preference. Needs the `say`/`fail` functions of shFunctions(). On apt systems a temporary policy-rc.d
 * keeps the packages' maintainer scripts from starting their service with the distribution's default
 * configuration: hakube writes the configuration, checks it, and starts the service itself. Package names
 * are the same in both families for what hakube installs (haproxy, keepalived, curl).
 */
export const SH_INSTALL_PACKAGES = `install_packages() {
  if command -v apt-get >/dev/null 2>&1; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; } || fail "apt-get install $* failed"
    say "installed $* with apt-get"
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y -q "$@" >/dev/null || fail "dnf install $* failed"
    say "installed $* with dnf"
  elif command -v yum >/dev/null 2>&1; then
    yum install -y -q "$@" >/dev/null || fail "yum install $* failed"
    say "installed $* with yum"
  else
    fail "no supported package manager (apt-get, dnf, yum): install $* yourself and use install.method preinstalled"
  fi
}`;

/**
 * Fail unless `$1` (a version such as "2.6.12") is at least MAJOR.MINOR. `$2` names the program in the
 * message. POSIX sh: compares the numeric fields with test(1).
 */
export function shRequireVersion(major: number, minor: number): string {
  return `require_version() {
  _maj=$(printf '%s' "$1" | cut -d. -f1)
  _min=$(printf '%s' "$1" | cut -d. -f2)
  case "$_maj$_min" in ''|*[!0-9]*) fail "cannot tell the version of $2 (got '$1'); hakube needs ${major}.${minor} or later" ;; esac
  if [ "$_maj" -lt ${major} ] || { [ "$_maj" -eq ${major} ] && [ "$_min" -lt ${minor} ]; }; then
    fail "$2 is version $1; hakube needs ${major}.${minor} or later"
  fi
  say "$2 $1"
}`;
}
