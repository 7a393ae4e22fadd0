/**
 * LoadBalancer defaults, each with where the number comes from. Pure: no Pulumi import.
 * Measured figures are from docs/measured-facts.md (HAProxy 2.6, one request every 25 ms through the LB).
 */
import { API_SERVER_PORT, HAPROXY_HEALTH_PORT } from "../contracts";

/** Clients expect a control-plane endpoint on kube-apiserver's port. */
export const DEFAULT_PORT = API_SERVER_PORT;
export const DEFAULT_BACKEND_PORT = API_SERVER_PORT;

// ---- HAProxy ----

/**
 * Active checks every 500 ms, DOWN after 2 failures, UP after 2 successes. Measured: a killed backend was
 * marked DOWN after 0.62 s (3.5 % failed requests without redispatch, 0 with it); a backend whose link
 * went down after 1.59 s, 0 failed requests with redispatch. kubespray's inter 15s fall 2 takes ~30 s and
 * inter 2s fall 3 lost 16.7 % of requests in the same test.
 */
export const DEFAULT_HAPROXY_CHECK_INTERVAL_MS = 500;
export const DEFAULT_HAPROXY_CHECK_FALL = 2;
export const DEFAULT_HAPROXY_CHECK_RISE = 2;
/**
 * `retries 3` + `option redispatch 1`: a connection that fails is retried up to 3 times, each retry on
 * another server. Measured: 0 failed requests when a backend was killed or lost its link.
 */
export const HAPROXY_RETRIES = 3;
export const HAPROXY_REDISPATCH_EVERY = 1;
/**
 * Connect timeout: a backend whose host died drops SYNs, and each attempt waits this long before the
 * retry goes to another server. It must end well before the dead backend is marked DOWN (inter 500 ms x
 * fall 2), because `on-marked-down shutdown-sessions` then closes every session of that server, including
 * one still trying to connect: measured in the lab with 1 s, the request in flight when a master's host
 * died failed ("socket disconnected before TLS"); with 300 ms it is redispatched. A LAN connect takes well
 * under a millisecond; a lost SYN is simply retried sooner.
 */
export const HAPROXY_TIMEOUT_CONNECT = "300ms";
/**
 * Idle timeouts of client and server sides: kubespray's 15 minutes. Watches are long-lived; client-go
 * pings idle HTTP/2 connections every 30 s, so they stay well under this.
 */
export const HAPROXY_TIMEOUT_CLIENT = "15m";
export const HAPROXY_TIMEOUT_SERVER = "15m";
/** The loopback HTTP port where HAProxy answers GET /healthz while it runs: the one KeepalivedVip asks. */
export const DEFAULT_HAPROXY_HEALTH_PORT = HAPROXY_HEALTH_PORT;
/** The frontend and backend names in haproxy.cfg (they show in HAProxy's logs). */
export const HAPROXY_PROXY_NAME = "kube-apiserver";
/**
 * HAProxy 2.0 or later: `log stdout` (journald under systemd, also inside the chroot) needs it. Debian 11
 * has 2.2, Debian 12 2.6, Ubuntu 22.04 2.4, RHEL 9 2.4; RHEL 8's 1.8 is refused.
 */
export const MIN_HAPROXY_VERSION = [2, 0] as const;

/** Paths on HAProxy hosts. */
export const HAPROXY_CONFIG_FILE = "/etc/haproxy/haproxy.cfg";
/** The backends' CA, when `caCertPem` is given. */
export const HAPROXY_CA_FILE = "/etc/haproxy/hakube-backend-ca.crt";
/** net.ipv4.ip_nonlocal_bind=1, when `bindAddress` is given. */
export const HAPROXY_SYSCTL_FILE = "/etc/sysctl.d/90-hakube-haproxy.conf";
/**
 * The admin socket, with `expose-fd listeners` so that a reload hands the listening sockets to the new
 * worker (no refused connection during a reload). In the chroot directory, which both Debian and RHEL
 * packages create.
 */
export const HAPROXY_STATS_SOCKET = "/var/lib/haproxy/admin.sock";
export const HAPROXY_CHROOT = "/var/lib/haproxy";

// ---- AWS Network Load Balancer ----
// Ranges from the Elastic Load Balancing API reference, CreateTargetGroup:
// HealthCheckIntervalSeconds 5-300 (default 30), HealthCheckTimeoutSeconds 2-120 (default 10 for HTTPS),
// HealthyThresholdCount 2-10, UnhealthyThresholdCount 2-10.

/** The shortest interval AWS allows for NLB health checks (the default of 30 s reacts in about a minute). */
export const DEFAULT_NLB_HEALTH_CHECK_INTERVAL_SECONDS = 5;
/** Below the interval; ample for a TLS handshake and GET /readyz inside a VPC. */
export const DEFAULT_NLB_HEALTH_CHECK_TIMEOUT_SECONDS = 3;
/** The lowest thresholds AWS allows: a dead target is out after ~2 x 5 s (kops uses 10 s, 2/2). */
export const DEFAULT_NLB_HEALTHY_THRESHOLD = 2;
export const DEFAULT_NLB_UNHEALTHY_THRESHOLD = 2;
export const NLB_INTERVAL_RANGE = [5, 300] as const;
export const NLB_TIMEOUT_RANGE = [2, 120] as const;
export const NLB_THRESHOLD_RANGE = [2, 10] as const;

/** Read-only stats page on the loopback health port ("/stats;csv" for scripts): backend UP/DOWN states. */
export const HAPROXY_STATS_PATH = "/stats";
