/**
 * Pure renderers for HAProxy's files: haproxy.cfg (built as sections, then serialized) and the sysctl
 * file that lets HAProxy bind an address the host does not hold. No Pulumi import.
 *
 * Choices (numbers and their sources in ../defaults.ts):
 * - TCP pass-through (`mode tcp`): clients do TLS with the API servers themselves; HAProxy holds no key.
 * - `balance leastconn`: API connections are long-lived (watches), so new ones go where there are fewest.
 * - Active HTTPS checks of GET /readyz (`check-ssl`), every 500 ms, fall 2, rise 2; the check's whole
 *   time is bounded by `inter` (no `timeout check`). With a CA the chain is verified (`verify required
 *   ca-file`, not the host name), without one it is not (`verify none`): the check then proves
 *   readiness, not identity. Client traffic is never affected by this choice.
 * - `retries 3` + `option redispatch 1`: a failed connection is retried on another server, so a dead
 *   backend costs no client request (0 failed in the lab, against 3.5-31 % without).
 * - `observe layer4 error-limit 1 on-error mark-down`: the first failed connect to a backend (its host
 *   died: the SYN goes unanswered for `timeout connect`) marks it DOWN at once, before the checks would,
 *   so later connections skip it; the failing one is redispatched. There is no `on-marked-down
 *   shutdown-sessions`: measured in the lab, it also closes the sessions that are still connecting to the
 *   server (the client sees "socket disconnected before TLS"), so a master's death cost one request; without
 *   it none. The price: a connection established to a silently dead backend is left to the client's own
 *   liveness check (client-go pings idle HTTP/2 connections after 30 s), as with kubeadm's and kubespray's
 *   HAProxy configurations, which do not close sessions either.
 * - Fail open: each backend again as an unchecked `backup` server (`<name>-failopen`, `option allbackups`),
 *   used only while every checked server is DOWN, as an AWS NLB does when all its targets are unhealthy.
 *   All of them fail /readyz at once when etcd has no leader for a moment (a master and its etcd member
 *   died): the API servers still take connections and answer once etcd elects, so forwarding beats
 *   closing every new connection (without it, one loaded lab run saw 25 new requests refused). A dead
 *   backend among them costs nothing more: its failed connect is redispatched as above.
 * - A loopback-only `monitor-uri` answers GET /healthz while HAProxy runs (KeepalivedVip checks it), and
 *   the same loopback port serves the read-only stats page (`/stats;csv`: backend states for operators).
 * - Logs to stdout (journald under systemd, also from the chroot) at level notice: server UP/DOWN and
 *   errors (`option log-separate-errors`), not every connection.
 * - The admin socket has `expose-fd listeners`: on `systemctl reload` the new worker takes the listening
 *   sockets over from the old one (master-worker mode of the distribution's unit, `haproxy -Ws`), so a
 *   reload refuses no connection, and the old worker finishes the connections it has.
 */
import {
  HAPROXY_CHROOT,
  HAPROXY_STATS_PATH,
  HAPROXY_PROXY_NAME,
  HAPROXY_REDISPATCH_EVERY,
  HAPROXY_RETRIES,
  HAPROXY_STATS_SOCKET,
  HAPROXY_TIMEOUT_CLIENT,
  HAPROXY_TIMEOUT_CONNECT,
  HAPROXY_TIMEOUT_SERVER,
} from "../defaults";
import { HAPROXY_HEALTH_PATH, READYZ_PATH } from "../../contracts";
import { joinHostPort } from "../../net";
import { HaproxySettings } from "../settings";

/** Suffix of the unchecked backup entry of each backend (fail open). */
export const FAIL_OPEN_SUFFIX = "-failopen";

/** One section of haproxy.cfg: its header line ("global", "frontend x", ...) and its directives. */
export interface HaproxySection {
  header: string;
  directives: string[];
}

export interface HaproxyConfig {
  /** Comment lines at the top, without "# ". */
  comments: string[];
  sections: HaproxySection[];
}

/** The `bind` argument: "*:6443", ":::6443 v4v6" or "10.0.0.10:6443" / "[fd00::10]:6443". */
export function bindSpec(s: Pick<HaproxySettings, "bindAddress" | "port">): string {
  if (s.bindAddress === "*") return `*:${s.port}`;
  if (s.bindAddress === "::") return `:::${s.port} v4v6`;
  return joinHostPort(s.bindAddress, s.port);
}

export function buildHaproxyConfig(s: HaproxySettings): HaproxyConfig {
  const verify = s.caFile ? `verify required ca-file ${s.caFile}` : "verify none";
  return {
    comments: [
      `Managed by hakube (LoadBalancer ${s.component}); changes here are overwritten.`,
      `Checked with haproxy -c before it replaces the previous file; applied with systemctl reload.`,
    ],
    sections: [
      {
        header: "global",
        directives: [
          "log stdout format short local0 notice",
          `chroot ${HAPROXY_CHROOT}`,
          "user haproxy",
          "group haproxy",
          `stats socket ${HAPROXY_STATS_SOCKET} mode 600 level admin expose-fd listeners`,
        ],
      },
      {
        header: "defaults",
        directives: [
          "mode tcp",
          "log global",
          "option tcplog",
          "option dontlognull",
          "option log-separate-errors",
          `option redispatch ${HAPROXY_REDISPATCH_EVERY}`,
          `retries ${HAPROXY_RETRIES}`,
          `timeout connect ${HAPROXY_TIMEOUT_CONNECT}`,
          `timeout client ${HAPROXY_TIMEOUT_CLIENT}`,
          `timeout server ${HAPROXY_TIMEOUT_SERVER}`,
        ],
      },
      {
        header: `frontend ${HAPROXY_PROXY_NAME}`,
        directives: [`bind ${bindSpec(s)}`, `default_backend ${HAPROXY_PROXY_NAME}`],
      },
      {
        header: `backend ${HAPROXY_PROXY_NAME}`,
        directives: [
          "balance leastconn",
          "option allbackups",
          `option httpchk GET ${READYZ_PATH}`,
          "http-check expect status 200",
          `default-server check check-ssl ${verify} inter ${s.checkIntervalMs}ms fall ${s.checkFall} rise ${s.checkRise} observe layer4 error-limit 1 on-error mark-down`,
          ...s.backends.map((b) => `server ${b.name} ${joinHostPort(b.address, s.backendPort)}`),
          // Fail open: used only while every server above is DOWN (see the header).
          ...s.backends.map(
            (b) =>
              `server ${b.name}${FAIL_OPEN_SUFFIX} ${joinHostPort(b.address, s.backendPort)} backup no-check`,
          ),
        ],
      },
      {
        header: "frontend healthz",
        directives: [
          `bind ${joinHostPort("127.0.0.1", s.healthPort)}`,
          "mode http",
          `monitor-uri ${HAPROXY_HEALTH_PATH}`,
          "stats enable",
          `stats uri ${HAPROXY_STATS_PATH}`,
        ],
      },
    ],
  };
}

/** Serialize {@link buildHaproxyConfig}: comments, then sections separated by blank lines, trailing newline. */
export function renderHaproxyConfig(s: HaproxySettings): string {
  const c = buildHaproxyConfig(s);
  const head = c.comments.map((l) => `# ${l}`).join("\n");
  const body = c.sections.map((sec) => [sec.header, ...sec.directives.map((d) => `    ${d}`)].join("\n"));
  return [head, ...body].join("\n\n") + "\n";
}

/** The sysctl key that lets a process bind an address the host does not hold, per family. */
export function nonlocalBindKey(family: 4 | 6): string {
  return family === 4 ? "net.ipv4.ip_nonlocal_bind" : "net.ipv6.ip_nonlocal_bind";
}

/** /etc/sysctl.d/90-hakube-haproxy.conf, when HAProxy binds a specific address. */
export function renderSysctlFile(s: HaproxySettings): string {
  if (!s.nonlocalBind) throw new Error("renderSysctlFile needs a bindAddress");
  return `# Managed by hakube (LoadBalancer ${s.component}): HAProxy binds ${s.bindAddress}, which this host
# may not hold at the moment (a virtual IP that another host holds).
${nonlocalBindKey(s.nonlocalBind)} = 1
`;
}
