/**
 * etcd's version rules for upgrades, as shell functions that the install and upgrade scripts carry (and
 * tests/unit/etcd-upgrade.test.ts runs on their own). Pure: no Pulumi import.
 */

/**
 * Version rules as shell functions (unit-tested on their own): `ver_cmp A B` prints -1, 0 or 1;
 * `check_no_downgrade WHO HAVE` fails if $VERSION is older than HAVE (what WHO runs); `check_step WHO
 * HAVE` also fails unless $VERSION stays within HAVE's minor or the next one.
 */
export const SH_VERSION_RULES = `ver_cmp() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, "."); split(b, y, ".")
    for (i = 1; i <= 3; i++) { if (x[i] + 0 < y[i] + 0) { print -1; exit } if (x[i] + 0 > y[i] + 0) { print 1; exit } }
    print 0 }'
}
check_no_downgrade() {
  [ -n "$2" ] || return 0
  if [ "$(ver_cmp "$VERSION" "$2")" = -1 ]; then
    fail "refusing version $VERSION: $1 runs etcd $2, and downgrades are refused (etcd cannot go back once the cluster version moved on; restore a snapshot into a new cluster instead); set version to $2 or later. Nothing was changed"
  fi
}
check_step() {
  [ -n "$2" ] || return 0
  check_no_downgrade "$1" "$2"
  _next=$(echo "$2" | awk -F. '{ print $1 "." $2 + 1 }')
  case "$VERSION" in
    "\${2%.*}".*|"$_next".*) ;;
    *) fail "refusing version $VERSION: $1 runs etcd $2, and etcd upgrades one minor at a time; set version to a $_next release first. Nothing was changed" ;;
  esac
}`;
