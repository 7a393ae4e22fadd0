/**
 * A stand-in for kube-apiserver, for the lab only: no Kubernetes server binaries can be had in this
 * workplace, so each master runs `openssl s_server -WWW` on <address>:6443 with a certificate from the
 * cluster CA, serving `/readyz` (and `/livez`) as the real API server does to anonymous clients. It is
 * enough to prove what the VIP and the load balancer do (health checks, failover, TLS through the VIP);
 * it proves nothing about Kubernetes itself. Not part of the published library.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import * as hakube from "../../index";
import { COMMAND_DEFAULTS, secretConnection } from "../../components/hosts";
import { heredoc, renderFileBundle, shFunctions, SH_PUT_BUNDLE_FROM_STDIN } from "../../components/shell";

export const STANDIN_PORT = 6443;
const DIR = "/var/lib/hakube-apiserver-standin";
const UNIT = "hakube-apiserver-standin.service";

/** The unit: one openssl process answering HTTPS requests one at a time, restarted if it dies. */
export function renderStandInUnit(address: string, port: number): string {
  return `# Lab stand-in for kube-apiserver (hakube lab); not Kubernetes.
[Unit]
Description=kube-apiserver stand-in (openssl s_server serving /readyz)
After=network-online.target

[Service]
WorkingDirectory=${DIR}/www
ExecStart=/usr/bin/openssl s_server -quiet -accept ${address}:${port} -cert ${DIR}/tls.crt -key ${DIR}/tls.key -WWW
Restart=always
RestartSec=1s

[Install]
WantedBy=multi-user.target
`;
}

export function renderStandInScript(name: string, address: string, port: number): string {
  return [
    `# hakube lab: kube-apiserver stand-in on ${name}`,
    "set -eu",
    shFunctions(`hakube lab standin/${name}`),
    `install -d -m 0755 ${DIR} ${DIR}/www`,
    `printf 'ok\\n' | put ${DIR}/www/readyz 0644 root:root`,
    `printf 'ok\\n' | put ${DIR}/www/livez 0644 root:root`,
    SH_PUT_BUNDLE_FROM_STDIN,
    heredoc(`put /etc/systemd/system/${UNIT} 0644 root:root`, renderStandInUnit(address, port)),
    `systemctl daemon-reload
systemctl enable --quiet ${UNIT}
if [ "$CHANGED" = 1 ]; then systemctl restart ${UNIT}; else systemctl start ${UNIT}; fi
for _ in $(seq 50); do
  curl -sf --cacert ${DIR}/ca.crt https://${address}:${port}/readyz >/dev/null && { say "serving /readyz on ${address}:${port}"; exit 0; }
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
          { path: `${DIR}/tls.crt`, mode: "0644", owner: "root:root", content: crt },
          { path: `${DIR}/tls.key`, mode: "0600", owner: "root:root", content: key },
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
