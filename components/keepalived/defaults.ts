/**
 * KeepalivedVip defaults, each with where the number comes from. Pure: no Pulumi import.
 * Measured figures are from docs/measured-facts.md (keepalived 2.2.7, VRRPv3, 3 members, VIP polled every 50 ms).
 */
import { API_SERVER_PORT } from "../contracts";
import { VrrpTimingProfile } from "./types";

/** The port `endpoint` names: kube-apiserver's. */
export const DEFAULT_PORT = API_SERVER_PORT;

/** Timings of one profile. */
export interface VrrpTimings {
  advertIntervalSeconds: number;
  checkIntervalSeconds: number;
  checkTimeoutSeconds: number;
  checkFall: number;
  checkRise: number;
}

/**
 * The timing profiles. Measured failover (VIP gone from the dead holder to answering on the next member):
 *
 * | advert_int | keepalived SIGKILL | SIGTERM | track script fails (interval 1, fall 2) |
 * |---|---|---|---|
 * | 1 s   | 3.61 s | 0.67 s | 4.62 s |
 * | 0.1 s | 0.35-0.40 s | 0.08-0.10 s | 1.97 s |
 *
 * A dead holder is noticed after 3 advertisement intervals plus a skew of (256 - priority)/256 of one
 * (RFC 5798): 0.1 s gives ~0.35 s, 0.3 s ~1.0 s. Measured by `npm run bench -- vip` (BENCHMARKS.md):
 * host death 0.44 s against 0.97 s under the same CPU load, the same VIP moves (no flapping) and no more
 * failed requests. An earlier measurement (docs/measured-facts.md) saw 0.1 s flap under load; the
 * benchmark's scenario 6 (no fault, 18 busy loops on two cores) counts VIP moves and MASTER transitions
 * for exactly that. Hence `Fast` (0.1 s) is the default. Checks: keepalived 2.2.7 accepts only whole
 * seconds for a vrrp_script's interval and timeout ("vrrp script interval '0.5' must be between 1 and 4294", checked here), so 1 s
 * with fall 2 is the fastest that does not act on a single failed request. kubeadm's HA guide uses
 * interval 3, fall 10 (~30 s).
 */
export const TIMING_PROFILES: { readonly [P in VrrpTimingProfile]: Readonly<VrrpTimings> } = {
  [VrrpTimingProfile.Fast]: {
    advertIntervalSeconds: 0.1,
    checkIntervalSeconds: 1,
    checkTimeoutSeconds: 1,
    checkFall: 2,
    checkRise: 2,
  },
  [VrrpTimingProfile.Balanced]: {
    advertIntervalSeconds: 0.3,
    checkIntervalSeconds: 1,
    checkTimeoutSeconds: 1,
    checkFall: 2,
    checkRise: 2,
  },
  [VrrpTimingProfile.Conservative]: {
    advertIntervalSeconds: 1,
    checkIntervalSeconds: 2,
    checkTimeoutSeconds: 2,
    checkFall: 3,
    checkRise: 2,
  },
};

/**
 * The default profile: the one number the lab benchmark (failover time, spurious transitions under load)
 * decides. Change it here only.
 */
export const DEFAULT_TIMING_PROFILE = VrrpTimingProfile.Fast;

/** VRRPv3's advertisement interval is a 12-bit count of centiseconds (RFC 5798 5.2.7). */
export const MIN_ADVERT_INTERVAL_SECONDS = 0.01;
export const MAX_ADVERT_INTERVAL_SECONDS = 40.95;
/** keepalived's range for a vrrp_script's interval and timeout, whole seconds. */
export const MAX_CHECK_SECONDS = 4294;

/**
 * Priorities from the position in `members`: 200, 190, 180, ... Steps of 10 give backups skew times
 * (256 - priority)/256 of an advertisement apart: ~4 ms at 0.1 s, ~12 ms at 0.3 s, so the first backup
 * usually claims the VIP before the next one's timer runs out; if both do, the lower yields to the
 * higher's first advertisement (RFC 5798 6.4.3). 200 leaves room below for the health check's weight. 255 is reserved by VRRP for the address owner.
 */
export const FIRST_PRIORITY = 200;
export const PRIORITY_STEP = 10;
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 254;

/** The priority of the member at `index` when none is given. */
export function derivedPriority(index: number): number {
  return FIRST_PRIORITY - PRIORITY_STEP * index;
}

/**
 * The unprivileged user the health check's curl runs as (keepalived's own convention). keepalived runs
 * the script as root: with a non-root `script_user`, `keepalived -t` of 2.2.7 kills itself with SIGTERM
 * (rc 143, also for valid files; checked here), and the host scripts rely on `keepalived -t`. The script
 * drops privileges with setpriv instead.
 */
export const SCRIPT_USER = "keepalived_script";

/** keepalived 2.0 or later (VRRPv3 with sub-second adverts, init_fail). Debian 12 has 2.2.7, RHEL 8 2.1.5. */
export const MIN_KEEPALIVED_VERSION = [2, 0] as const;

/** How long the configure step waits for keepalived to be active after a (re)start. */
export const START_TIMEOUT_SECONDS = 60;
/**
 * How long the final check waits for the VIP to settle and its port to accept connections: HAProxy may be
 * installed on the same hosts at the same time (a package install can wait minutes for apt's lock).
 */
export const DEFAULT_READY_TIMEOUT_SECONDS = 600;
/** Seconds the VIP must stay where it is before a member reports whether it holds it (VRRP settles in ~3.5 advertisements). */
export const READY_STABLE_SECONDS = 3;

/** Paths on every member. One KeepalivedVip per host: keepalived.conf and the unit are whole files. */
export const CONFIG_DIR = "/etc/keepalived";
export const CONFIG_FILE = "/etc/keepalived/keepalived.conf";
export const CHECK_SCRIPT = "/etc/keepalived/hakube-check.sh";
/** Replaces the distribution's keepalived.service (see render/config.ts renderUnit). */
export const UNIT_FILE = "/etc/systemd/system/keepalived.service";
/** systemd's RuntimeDirectory: created at start, removed at stop, so no stale pid file survives a crash. */
export const RUN_DIR = "/run/keepalived";
/** The VRRP instance and script names in keepalived.conf. */
export const INSTANCE_NAME = "hakube_vip";
export const SCRIPT_NAME = "hakube_check";
