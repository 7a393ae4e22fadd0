/**
 * Shell for installing OS packages on a host, shared by every install script (etcd, keepalived, HAProxy,
 * the Kubernetes node preparation). Pure: no Pulumi import. Needs the `say`/`fail` functions of
 * shFunctions() (components/shell.ts).
 */

/** How long a package install waits for another package manager holding apt's or dpkg's lock. */
export const PACKAGE_LOCK_WAIT_SECONDS = 600;
/** How long a package install waits for cloud-init to finish on a freshly booted cloud instance. */
export const CLOUD_INIT_WAIT_SECONDS = 900;

/**
 * The apt functions. A freshly booted cloud instance (EC2 with Debian or Ubuntu) upgrades packages from
 * cloud-init and later from unattended-upgrades, and holds apt's locks meanwhile; a plain apt-get fails at
 * once with "Could not get lock". So:
 * - `wait_for_cloud_init`: if cloud-init runs on the host, wait until it is done (bounded);
 * - `apt_retry CMD ARGS...`: an apt tool (apt-get, apt-mark), non-interactive, retried every 5 s while
 *   another apt holds a lock, within PACKAGE_LOCK_WAIT_SECONDS, saying so on stderr (the caller may
 *   silence stdout). Any other failure is reported at once with apt's own message; stdout goes where the
 *   caller sends it;
 * - `apt_get ARGS...`: apt-get through apt_retry, also waiting inside apt for dpkg's lock
 *   (DPkg::Lock::Timeout, apt 1.9.11 or later; older apt ignores the option). The retries cover the
 *   locks apt does not wait for (the package lists' lock during `update`);
 * - `apt_install [OPTION...] PKG...`: install; if that fails (stale or absent package lists), `update`
 *   and install again;
 * - `no_service_start`: a policy-rc.d that keeps the packages' maintainer scripts from starting their
 *   service with the distribution's default configuration (hakube writes the configuration, checks it,
 *   and starts the service itself). Call it in a subshell with the install: the subshell's EXIT trap
 *   removes the file however the install ends, and leaves the script's own EXIT trap alone.
 */
export const SH_APT = `wait_for_cloud_init() {
  if command -v cloud-init >/dev/null 2>&1; then
    timeout ${CLOUD_INIT_WAIT_SECONDS} cloud-init status --wait >/dev/null 2>&1 || true
  fi
}
apt_retry() {
  _waited=0
  while :; do
    _rc=0
    { _err=$(DEBIAN_FRONTEND=noninteractive "$@" 2>&1 >&3 3>&-); } 3>&1 || _rc=$?
    if [ "$_rc" -eq 0 ]; then
      [ -z "$_err" ] || printf '%s\\n' "$_err" >&2
      return 0
    fi
    case "$_err" in
      *"Could not get lock"*|*"Unable to lock"*|*"Unable to acquire"*)
        if [ "$_waited" -lt ${PACKAGE_LOCK_WAIT_SECONDS} ]; then
          [ "$_waited" -gt 0 ] || say "another package manager holds apt's lock; waiting for it (at most ${PACKAGE_LOCK_WAIT_SECONDS} s)" >&2
          sleep 5
          _waited=$((_waited + 5))
          continue
        fi ;;
    esac
    printf '%s\\n' "$_err" >&2
    return "$_rc"
  done
}
apt_get() { apt_retry apt-get -o DPkg::Lock::Timeout=${PACKAGE_LOCK_WAIT_SECONDS} "$@"; }
apt_install() {
  apt_get install -y -q "$@" >/dev/null 2>&1 || { apt_get update -q >/dev/null && apt_get install -y -q "$@" >/dev/null; }
}
no_service_start() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
}`;

/**
 * `install_packages PKG...`: apt-get (Debian, Ubuntu), dnf or yum (RHEL family), in that order of
 * preference, after cloud-init, waiting for apt's locks (SH_APT, which it includes) and without starting
 * the packages' services. Package names are the same in both families for what it installs (haproxy,
 * keepalived, curl).
 */
export const SH_INSTALL_PACKAGES = `${SH_APT}
install_packages() {
  wait_for_cloud_init
  if command -v apt-get >/dev/null 2>&1; then
    (no_service_start && apt_install --no-install-recommends "$@") || fail "apt-get install $* failed"
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
