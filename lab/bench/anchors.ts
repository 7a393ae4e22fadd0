/**
 * The anchors of the VIP benchmark (lab/bench/vip/): what users get elsewhere, rendered as those
 * projects write them, for the lab's three masters. Pure functions over plain values, no Pulumi import;
 * lab/bench/vip/anchor.ts writes their output to the hosts over SSH after a normal hakube deploy.
 *
 * Sources (read from the projects' own files; placeholders filled in as their docs say):
 * - kubeadm: kubernetes/kubeadm docs/ha-considerations.md, "keepalived and haproxy", at 25ccfcf
 *   (2026-01-06; the keepalived/haproxy part last changed in 073082b, 2024-05-04, "Update haproxy and
 *   keepalived config / Shrink timeouts"). Before 073082b the guide used `option ssl-hello-chk`, timeouts
 *   client/server 20s and a check script that also curled the VIP; the often-quoted line
 *   `default-server inter 10s downinter 5s rise 2 fall 2 slowstart 60s maxconn 250 maxqueue 256 weight 100`
 *   was never in that guide (`git log -S downinter` finds nothing in kubernetes/kubeadm); it comes from
 *   community write-ups. The current guide sets no check timings, so HAProxy's own apply: inter 2s,
 *   fall 3, rise 2.
 * - Platform9: platform9/nodelet nodelet/pkg/pf9kube/pf9/pf9-kube/master_utils.sh
 *   (`create_keepalived_healthcheck_script`, `ensure_keepalived_configured`) and defaults.env
 *   (VRRP_HEALTH_CHECK_INTERVAL=10, _RISE=2, _FALL=6), at a954c3e (2023-11-13). keepalived only: the
 *   VIP points at the API server itself there.
 * - kubespray: kubernetes-sigs/kubespray roles/kubernetes/node/templates/loadbalancer/haproxy.cfg.j2 at
 *   46dbdd3 (2026-08-21), `loadbalancer_apiserver_keepalive_timeout: 5m` from
 *   roles/kubernetes/node/defaults/main.yml. HAProxy only: kubespray's is a node-local load balancer on
 *   127.0.0.1; here it binds the VIP instead.
 *
 * What the lab changes, and why (nothing that changes a timing):
 * - kube-apiserver listens on *:6443 on every master, so the VIP's frontend is 8443 (`port`), as the
 *   kubeadm guide itself says for load balancers on the masters; the servers are `<address>:6443`
 *   (`apiPort`). kubeadm's `bind *:<port>` is kept; kubespray's node-local 127.0.0.1 bind becomes the VIP.
 * - keepalived's `interface` is the lab's `host0`; the check scripts run as `keepalived_script` (the
 *   unprivileged user hakube's install made) where Platform9 uses its own `pf9` user.
 * - Platform9's check presents the admin client certificate from its certs/admin folder (ca.crt,
 *   request.crt, request.key) to 127.0.0.1:<api port>; here that folder is filled from the cluster CA and
 *   kubeadm's admin.conf, owned by the check's user. The API server's certificate has no 127.0.0.1 SAN, so
 *   curl connects to 127.0.0.1 under the host's name (`--resolve`), which it has.
 */

/** A master as the anchors need it. */
export interface AnchorHost {
  name: string;
  address: string;
}

/** The lab's facts every anchor is rendered for. */
export interface AnchorSite {
  /** The masters, in order (the first is kubeadm's MASTER). */
  hosts: AnchorHost[];
  /** The VIP, without prefix. */
  vip: string;
  /** Port of the VIP's frontend (the load balancer's; 8443 in the lab). */
  port: number;
  /** Port of the API servers on every master (6443). */
  apiPort: number;
  /** The VRRP interface on every master. */
  interface: string;
  virtualRouterId: number;
  /** The CA the API servers' certificates chain to, as a path on the masters. */
  apiCaFile: string;
  /** kubeadm's admin kubeconfig on the masters (its client certificate is the admin's). */
  adminKubeconfig: string;
  /** The user the check scripts run as. */
  scriptUser: string;
}

/** One file for a host. */
export interface AnchorFile {
  path: string;
  mode: string;
  content: string;
}

export enum AnchorKind {
  /** kubeadm HA guide: keepalived and HAProxy. */
  Kubeadm = "kubeadm",
  /** Platform9 PMK: keepalived (hakube's HAProxy stays). */
  Platform9 = "platform9",
  /** kubespray: HAProxy (hakube's keepalived stays). */
  Kubespray = "kubespray",
}

/** Which halves an anchor replaces. */
export function anchorReplaces(kind: AnchorKind): { keepalived: boolean; haproxy: boolean } {
  switch (kind) {
    case AnchorKind.Kubeadm:
      return { keepalived: true, haproxy: true };
    case AnchorKind.Platform9:
      return { keepalived: true, haproxy: false };
    case AnchorKind.Kubespray:
      return { keepalived: false, haproxy: true };
  }
}

// ---- kubeadm (docs/ha-considerations.md) ----

export const KUBEADM_CHECK_SCRIPT = "/etc/keepalived/check_apiserver.sh";

/**
 * kubeadm's keepalived.conf for the master at `index`: `state MASTER` and priority 101 for the first,
 * `BACKUP` and 100 for the others ("101 and 100 respectively will suffice"), VRRPv2 (keepalived's
 * default) with `auth_type PASS`, `auth_pass 42` (the guide's example), multicast, advert_int 1 (default),
 * check interval 3, weight -2, fall 10, rise 2, no init_fail.
 */
export function renderKubeadmKeepalivedConf(site: AnchorSite, index: number): string {
  const first = index === 0;
  return `! /etc/keepalived/keepalived.conf
! Configuration File for keepalived
global_defs {
    router_id LVS_DEVEL
}
vrrp_script check_apiserver {
  script "${KUBEADM_CHECK_SCRIPT}"
  interval 3
  weight -2
  fall 10
  rise 2
}

vrrp_instance VI_1 {
    state ${first ? "MASTER" : "BACKUP"}
    interface ${site.interface}
    virtual_router_id ${site.virtualRouterId}
    priority ${first ? 101 : 100}
    authentication {
        auth_type PASS
        auth_pass 42
    }
    virtual_ipaddress {
        ${site.vip}
    }
    track_script {
        check_apiserver
    }
}
`;
}

/** kubeadm's check_apiserver.sh: GET /healthz through the local load balancer's port, 2 s at most. */
export function renderKubeadmCheckScript(site: AnchorSite): string {
  return `#!/bin/sh

errorExit() {
    echo "*** $*" 1>&2
    exit 1
}

curl -sfk --max-time 2 https://localhost:${site.port}/healthz -o /dev/null || errorExit "Error GET https://localhost:${site.port}/healthz"
`;
}

/**
 * kubeadm's haproxy.cfg: HTTP defaults with `retries 1` and `option redispatch`, connect 5s,
 * client/server 35s, `timeout check 10s`; a TCP frontend; a round-robin TCP backend with HTTPS checks of
 * GET /healthz (`http-check connect ssl`, `verify none`) at HAProxy's default timings.
 */
export function renderKubeadmHaproxyCfg(site: AnchorSite): string {
  const servers = site.hosts.map(
    (h) => `    server ${h.name} ${h.address}:${site.apiPort} check verify none`,
  );
  return `# /etc/haproxy/haproxy.cfg
#---------------------------------------------------------------------
# Global settings
#---------------------------------------------------------------------
global
    log stdout format raw local0
    daemon

#---------------------------------------------------------------------
# common defaults that all the 'listen' and 'backend' sections will
# use if not designated in their block
#---------------------------------------------------------------------
defaults
    mode                    http
    log                     global
    option                  httplog
    option                  dontlognull
    option http-server-close
    option forwardfor       except 127.0.0.0/8
    option                  redispatch
    retries                 1
    timeout http-request    10s
    timeout queue           20s
    timeout connect         5s
    timeout client          35s
    timeout server          35s
    timeout http-keep-alive 10s
    timeout check           10s

#---------------------------------------------------------------------
# apiserver frontend which proxys to the control plane nodes
#---------------------------------------------------------------------
frontend apiserver
    bind *:${site.port}
    mode tcp
    option tcplog
    default_backend apiserverbackend

#---------------------------------------------------------------------
# round robin balancing for apiserver
#---------------------------------------------------------------------
backend apiserverbackend
    option httpchk

    http-check connect ssl
    http-check send meth GET uri /healthz
    http-check expect status 200

    mode tcp
    balance     roundrobin

${servers.join("\n")}
`;
}

// ---- Platform9 (nodelet master_utils.sh, defaults.env) ----

export const PLATFORM9_CHECK_SCRIPT = "/etc/keepalived/pf9-check-apiserver.sh";
/** Platform9's ${CONF_DST_DIR}/certs/admin, for the lab. */
export const PLATFORM9_ADMIN_CERTS = "/etc/keepalived/pf9-certs/admin";

/**
 * Platform9's keepalived.conf: a check without `weight` (a failing check puts the member in FAULT),
 * interval 10, fall 6, rise 2; every member `state BACKUP`, `nopreempt`, no priority (100 everywhere),
 * `auth_type AH`, VRRPv2 multicast, advert_int 1, gratuitous ARP refresh every 10 s.
 */
export function renderPlatform9KeepalivedConf(site: AnchorSite): string {
  return `vrrp_script chk_apiserver {
    script ${PLATFORM9_CHECK_SCRIPT}
    interval 10
    fall 6
    rise 2
    user ${site.scriptUser}
}

global_defs {
    enable_script_security
    script_user ${site.scriptUser}
    vrrp_garp_master_refresh 10
    vrrp_garp_master_refresh_repeat 2
}

vrrp_instance K8S_APISERVER {
    interface ${site.interface}
    state BACKUP
    virtual_router_id ${site.virtualRouterId}
    nopreempt

    authentication {
        auth_type AH
        auth_pass m@st3rv1p
    }

    virtual_ipaddress {
        ${site.vip}
    }
    track_script {
        chk_apiserver
    }

}
`;
}

/**
 * Platform9's check: curl the local API server's /healthz with the admin client certificate, no timeout
 * of its own.
 */
export function renderPlatform9CheckScript(site: AnchorSite, host: AnchorHost): string {
  return `#!/bin/bash
set -x
# lab: the API server's certificate names the host, not 127.0.0.1: connect to 127.0.0.1 under that name.
/usr/bin/curl --resolve ${host.name}:${site.apiPort}:127.0.0.1 https://${host.name}:${site.apiPort}/healthz --cacert ${PLATFORM9_ADMIN_CERTS}/ca.crt --key ${PLATFORM9_ADMIN_CERTS}/request.key --cert ${PLATFORM9_ADMIN_CERTS}/request.crt --fail > /dev/null 2>&1
`;
}

// ---- kubespray (roles/kubernetes/node/templates/loadbalancer/haproxy.cfg.j2) ----

/**
 * kubespray's haproxy.cfg: HTTP defaults with `retries 5`, `option redispatch`, connect 30s, client 5m
 * (loadbalancer_apiserver_keepalive_timeout), server 15m, check 30s; the monitor-uri frontend on
 * `healthPort` (loadbalancer_apiserver_healthcheck_port: hakube's keepalived check asks it); a leastconn
 * TCP backend with HTTPS checks of GET /healthz, inter 15s downinter 15s rise 2 fall 2 slowstart 60s.
 */
export function renderKubesprayHaproxyCfg(site: AnchorSite, healthPort: number): string {
  const servers = site.hosts.map(
    (h) => `  server ${h.name} ${h.address}:${site.apiPort} check check-ssl verify none`,
  );
  return `global
    maxconn                 4000
    log                     127.0.0.1 local0

defaults
    mode                    http
    log                     global
    option                  httplog
    option                  dontlognull
    option                  http-server-close
    option                  redispatch
    retries                 5
    timeout http-request    5m
    timeout queue           5m
    timeout connect         30s
    timeout client          5m
    timeout server          15m
    timeout http-keep-alive 30s
    timeout check           30s
    maxconn                 4000

frontend healthz
  bind 0.0.0.0:${healthPort}
  mode http
  monitor-uri /healthz

frontend kube_api_frontend
  # lab: kubespray binds 127.0.0.1:<port> (a node-local load balancer); here it serves the VIP
  bind ${site.vip}:${site.port}
  mode tcp
  option tcplog
  default_backend kube_api_backend

backend kube_api_backend
  mode tcp
  balance leastconn
  default-server inter 15s downinter 15s rise 2 fall 2 slowstart 60s maxconn 1000 maxqueue 256 weight 100
  option httpchk GET /healthz
  http-check expect status 200
${servers.join("\n")}
`;
}

/**
 * The shell (as root, on a master) that fills Platform9's certs/admin folder: the cluster CA, and the
 * client certificate and key of kubeadm's admin.conf, readable by the check's user only.
 */
export function renderPlatform9AdminCerts(site: AnchorSite): string {
  const d = PLATFORM9_ADMIN_CERTS;
  const field = (f: string) => `sed -n 's/^ *${f}: *//p' ${site.adminKubeconfig} | base64 -d`;
  return `install -d -m 0700 -o ${site.scriptUser} ${d}
install -m 0644 ${site.apiCaFile} ${d}/ca.crt
( umask 077; ${field("client-certificate-data")} >${d}/request.crt; ${field("client-key-data")} >${d}/request.key )
test -s ${d}/request.crt && test -s ${d}/request.key
chown ${site.scriptUser} ${d}/ca.crt ${d}/request.crt ${d}/request.key
`;
}

// ---- per host ----

/** The files an anchor writes on the master at `index`. */
export function anchorFiles(
  kind: AnchorKind,
  site: AnchorSite,
  index: number,
  haproxyHealthPort: number,
): AnchorFile[] {
  const host = site.hosts[index];
  switch (kind) {
    case AnchorKind.Kubeadm:
      return [
        { path: "/etc/haproxy/haproxy.cfg", mode: "0644", content: renderKubeadmHaproxyCfg(site) },
        { path: KUBEADM_CHECK_SCRIPT, mode: "0755", content: renderKubeadmCheckScript(site) },
        {
          path: "/etc/keepalived/keepalived.conf",
          mode: "0644",
          content: renderKubeadmKeepalivedConf(site, index),
        },
      ];
    case AnchorKind.Platform9:
      return [
        { path: PLATFORM9_CHECK_SCRIPT, mode: "0755", content: renderPlatform9CheckScript(site, host) },
        {
          path: "/etc/keepalived/keepalived.conf",
          mode: "0644",
          content: renderPlatform9KeepalivedConf(site),
        },
      ];
    case AnchorKind.Kubespray:
      return [
        {
          path: "/etc/haproxy/haproxy.cfg",
          mode: "0644",
          content: renderKubesprayHaproxyCfg(site, haproxyHealthPort),
        },
      ];
  }
}

/** Shell an anchor runs on every master before its files are written (as root). */
export function anchorSetup(kind: AnchorKind, site: AnchorSite): string[] {
  return kind === AnchorKind.Platform9 ? [renderPlatform9AdminCerts(site)] : [];
}
