/**
 * A stand-in for kube-apiserver, for the lab only: no Kubernetes server binaries can be had in this
 * workplace, so each master runs a second, separate HAProxy process as a tiny HTTPS server on
 * <address>:6443 with a certificate from the cluster CA, answering `/readyz` and `/livez` with 200 "ok"
 * as the real API server does to anonymous clients. (A first version used `openssl s_server -WWW`: it
 * serves one connection at a time without timeouts, so one half-open connection from a powered-off peer
 * blocked it for good.) It is enough to prove what the VIP and the load balancer do (health checks,
 * failover, TLS through the VIP); it proves nothing about Kubernetes itself. Not part of the library.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import * as hakube from "../../index";
import { COMMAND_DEFAULTS, secretConnection } from "../../components/hosts";
import { heredoc, renderFileBundle, shFunctions, SH_PUT_BUNDLE_FROM_STDIN } from "../../components/shell";

export const STANDIN_PORT = 6443;
const DIR = "/var/lib/hakube-apiserver-standin";
const UNIT = "hakube-apiserver-standin.service";

/** The stand-in's own HAProxy configuration: TLS termination and fixed answers, short timeouts. */
export function renderStandInConfig(address: string, port: number): string {
  return `# Lab stand-in for kube-apiserver (hakube lab); not Kubernetes.
global
    log stdout format short local0 notice
    pidfile /run/hakube-apiserver-standin.pid

defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout http-request 5s

frontend apiserver
    bind ${address}:${port} ssl crt ${DIR}/tls.pem
    http-request return status 200 content-type text/plain string ok if { path /readyz } || { path /livez } || { path /healthz }
    http-request return status 404 content-type text/plain string "not a real API server"
`;
}

/**
 * The unit: the stand-in HAProxy in the foreground, restarted if it dies. `systemctl stop` sends SIGUSR1
 * (HAProxy's soft stop: stop listening, finish the requests in flight), as kube-apiserver finishes its
 * in-flight requests on SIGTERM; HAProxy's SIGTERM would cut them, which no real apiserver does.
 */
export function renderStandInUnit(): string {
  return `# Lab stand-in for kube-apiserver (hakube lab); not Kubernetes.
[Unit]
Description=kube-apiserver stand-in (HAProxy answering /readyz over TLS)
After=network-online.target

[Service]
ExecStart=/usr/sbin/haproxy -db -f ${DIR}/haproxy.cfg
Restart=always
RestartSec=1s
KillSignal=SIGUSR1
TimeoutStopSec=10s

[Install]
WantedBy=multi-user.target
`;
}

export function renderStandInScript(name: string, address: string, port: number): string {
  return [
    `# hakube lab: kube-apiserver stand-in on ${name}`,
    "set -eu",
    shFunctions(`hakube lab standin/${name}`),
    `[ -x /usr/sbin/haproxy ] || fail "haproxy is not installed (the stand-in runs its own haproxy process)"`,
    `install -d -m 0755 ${DIR}`,
    SH_PUT_BUNDLE_FROM_STDIN,
    heredoc(`put ${DIR}/haproxy.cfg 0644 root:root`, renderStandInConfig(address, port)),
    heredoc(`put /etc/systemd/system/${UNIT} 0644 root:root`, renderStandInUnit()),
    `/usr/sbin/haproxy -c -q -f ${DIR}/haproxy.cfg || fail "the stand-in's haproxy.cfg does not pass haproxy -c"
systemctl daemon-reload
systemctl enable --quiet ${UNIT}
if [ "$CHANGED" = 1 ]; then systemctl restart ${UNIT}; else systemctl start ${UNIT}; fi
for _ in $(seq 50); do
  curl -sf --max-time 1 --cacert ${DIR}/ca.crt https://${address}:${port}/readyz >/dev/null && { say "serving /readyz on ${address}:${port}"; exit 0; }
  sleep 0.1
done
fail "the stand-in does not answer on ${address}:${port}"`,
    "",
  ].join("\n");
}

export interface ApiServerStandInArgs {
  hosts: hakube.HostArgs[];
  ca: hakube.CaKeyPairArgs;
  /** More SANs for every certificate: the VIP, the load balancer's names. */
  extraSans: string[];
}

export class ApiServerStandIn extends pulumi.ComponentResource {
  constructor(name: string, args: ApiServerStandInArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:lab:ApiServerStandIn", name, {}, opts);
    for (const host of args.hosts) {
      const cert = hakube.issueCertificate(
        `${name}-${host.name}`,
        args.ca,
        {
          commonName: "kube-apiserver",
          role: hakube.CertificateRole.Server,
          altNames: [host.address, host.name, ...args.extraSans, "kubernetes", "localhost", "127.0.0.1"],
        },
        { parent: this },
      );
      const files = pulumi.all([args.ca.certPem, cert.certPem, cert.privateKeyPem]).apply(([ca, crt, key]) =>
        renderFileBundle([
          { path: `${DIR}/ca.crt`, mode: "0644", owner: "root:root", content: ca },
          { path: `${DIR}/tls.pem`, mode: "0600", owner: "root:root", content: `${crt}${key}` },
        ]),
      );
      new remote.Command(
        `${name}-${host.name}`,
        {
          connection: secretConnection(host.connection),
          create: renderStandInScript(host.name, host.address, STANDIN_PORT),
          stdin: pulumi.secret(files),
          delete: `systemctl disable --now ${UNIT} 2>/dev/null || true; rm -rf ${DIR} /etc/systemd/system/${UNIT}`,
          logging: "stderr",
          ...COMMAND_DEFAULTS,
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
