import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { enforce } from "../errors";
import { COMMAND_DEFAULTS, secretConnection } from "../hosts";
import { CaKeyPairArgs, CertificateAuthority, issueCertificate } from "../pki/certificateAuthority";
import { CertificateRole, DEFAULT_KEY_ALGORITHM } from "../pki/profiles";
import { CONFIG_DIR, UNIT_FILE } from "./defaults";
import { memberUrls, renderRoster } from "./render/config";
import {
  memberPkiFiles,
  renderConfigureScript,
  renderFileBundle,
  renderHealthGateScript,
  renderInstallScript,
  renderMemberScript,
  renderRemoveScript,
} from "./render/scripts";
import { resolveEtcdCluster } from "./settings";
import { EtcdClusterArgs } from "./types";
import { validateEtcdClusterArgs } from "./validate";

/**
 * An etcd cluster with mutual TLS on client and peer ports, installed and configured over SSH.
 *
 * Per member, in order: certificates (@pulumi/tls), `install`, `configure` (files; the configure steps of
 * all members run one after another, so a change rolls through them), `member` (bootstrap or join; joins
 * and removals go one member at a time, in member order). Last, a health gate on the first member fails
 * the deployment unless every member is started, voting and healthy.
 */
export class EtcdCluster extends pulumi.ComponentResource {
  /** https://<address>:<clientPort> of every member. */
  public readonly clientEndpoints: pulumi.Output<string[]>;
  public readonly memberNames: pulumi.Output<string[]>;
  /** The CA that signed every certificate; also what clients trust. */
  public readonly caCertPem: pulumi.Output<string>;
  /** A client certificate for consumers (kube-apiserver, backups, etcdctl). */
  public readonly clientCertPem: pulumi.Output<string>;
  /** The client certificate's key. Secret. */
  public readonly clientKeyPem: pulumi.Output<string>;
  /** The CA, to issue more certificates from it (HaControlPlane uses it for its etcd client). */
  public readonly ca: CaKeyPairArgs;

  constructor(name: string, args: EtcdClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:EtcdCluster", name, {}, opts);
    enforce(validateEtcdClusterArgs(args), `EtcdCluster ${name}`, this);

    const token = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
    const resolved = resolveEtcdCluster(name, args, token);
    const cert = args.certificates ?? {};
    const ca: CaKeyPairArgs =
      args.ca ??
      new CertificateAuthority(
        `${name}-ca`,
        { commonName: `${name}-etcd-ca`, keyAlgorithm: cert.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM },
        { parent: this },
      );
    const issue = (id: string, commonName: string, role: CertificateRole, altNames: string[]) =>
      issueCertificate(
        `${name}-${id}`,
        ca,
        {
          commonName,
          role,
          altNames,
          keyAlgorithm: cert.keyAlgorithm,
          validityHours: cert.validityHours,
          earlyRenewalHours: cert.earlyRenewalHours,
        },
        { parent: this },
      );
    const client = issue("client", `${name}-client`, CertificateRole.Client, []);
    const first = resolved.members[0];
    const roster = renderRoster(args.members, first.clientPort, first.peerPort);

    let previousConfigure: pulumi.Resource | undefined;
    let previousMember: pulumi.Resource | undefined;
    const configures: remote.Command[] = [];
    const memberSteps: remote.Command[] = [];
    args.members.forEach((host, i) => {
      const s = resolved.members[i];
      const prefix = `${name}-${host.name}`;
      const server = issue(`${host.name}-server`, host.name, CertificateRole.Server, [
        host.address,
        host.name,
        "127.0.0.1",
        "localhost",
      ]);
      const peer = issue(`${host.name}-peer`, host.name, CertificateRole.Peer, [host.address, host.name]);
      const connection = secretConnection(host.connection);

      const install = new remote.Command(
        `${prefix}-install`,
        {
          connection,
          create: renderInstallScript({ ...resolved.install, name: host.name }),
          ...COMMAND_DEFAULTS,
        },
        { parent: this },
      );
      const pki = pulumi
        .all([ca.certPem, server.certPem, server.privateKeyPem, peer.certPem, peer.privateKeyPem])
        .apply(([caPem, serverCert, serverKey, peerCert, peerKey]) =>
          renderFileBundle(memberPkiFiles({ ca: caPem, serverCert, serverKey, peerCert, peerKey })),
        );
      const configure = new remote.Command(
        `${prefix}-configure`,
        {
          connection,
          create: renderConfigureScript(s),
          stdin: pulumi.secret(pki),
          // The script prints only paths; stdout is still kept out of the log as a second line of defence.
          logging: "stderr",
          delete: `rm -rf ${CONFIG_DIR} ${UNIT_FILE} && systemctl daemon-reload`,
          ...COMMAND_DEFAULTS,
        },
        { parent: this, dependsOn: previousConfigure ? [install, previousConfigure] : [install] },
      );
      const memberScript = renderMemberScript(s);
      const member = new remote.Command(
        `${prefix}-member`,
        {
          connection,
          create: memberScript,
          update: memberScript,
          delete: renderRemoveScript(s),
          stdin: roster,
          ...COMMAND_DEFAULTS,
        },
        { parent: this, dependsOn: previousMember ? [configure, previousMember] : [configure] },
      );
      previousConfigure = configure;
      previousMember = member;
      configures.push(configure);
      memberSteps.push(member);
    });

    new remote.Command(
      `${name}-health`,
      {
        connection: secretConnection(args.members[0].connection),
        create: renderHealthGateScript(first),
        update: renderHealthGateScript(first),
        stdin: roster,
        // Run again whenever a member was (re)configured or (re)started.
        triggers: [...configures, ...memberSteps].map((c) => c.stdout),
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: memberSteps },
    );

    this.clientEndpoints = pulumi.output(
      args.members.map((m) => memberUrls(m.address, first.clientPort, first.peerPort).client),
    );
    this.memberNames = pulumi.output(args.members.map((m) => m.name));
    this.caCertPem = pulumi.output(ca.certPem);
    this.clientCertPem = client.certPem;
    this.clientKeyPem = client.privateKeyPem;
    this.ca = ca;
    this.registerOutputs({
      clientEndpoints: this.clientEndpoints,
      memberNames: this.memberNames,
      caCertPem: this.caCertPem,
      clientCertPem: this.clientCertPem,
      clientKeyPem: this.clientKeyPem,
    });
  }
}
