import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { argsChecker } from "../errors";
import { checkedConnection, COMMAND_DEFAULTS, ConnectionArgs, knownHosts } from "../hosts";
import { after } from "../outputs";
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
import { backupProblems, resolveBackup } from "./backup";
import { backupSecretFiles, renderBackupInstallScript, renderBackupRemoveScript } from "./render/backup";
import { lateInvalidArguments } from "../errors";
import { renderDefragInstallScript, renderDefragRemoveScript, resolveDefrag } from "./defrag";

/**
 * An etcd cluster with mutual TLS on client and peer ports, installed and configured over SSH.
 *
 * Per member, in order: certificates (@pulumi/tls), `install`, `configure` (files; the configure steps of
 * all members run one after another, so a change rolls through them), `member` (bootstrap or join; joins
 * and removals go one member at a time, in member order). Last, a health gate on the first member fails
 * the deployment unless every member is started, voting and healthy.
 *
 * Every output resolves only after the health gate passed: a resource that takes `clientEndpoints`,
 * `caCertPem`, `clientCertPem` or `clientKeyPem` as an input (HaControlPlane's external etcd) waits for a
 * healthy cluster without `dependsOn`. Member addresses given as Outputs are checked, and the certificates
 * and files rendered, once they resolve.
 */
export class EtcdCluster extends pulumi.ComponentResource {
  /** https://<address>:<clientPort> of every member. Resolves once the health gate passed. */
  public readonly clientEndpoints: pulumi.Output<string[]>;
  /** The members' names, in order. Resolves once the health gate passed. */
  public readonly memberNames: pulumi.Output<string[]>;
  /** The CA that signed every certificate; also what clients trust. Resolves once the health gate passed. */
  public readonly caCertPem: pulumi.Output<string>;
  /** A client certificate for consumers (kube-apiserver, backups, etcdctl). Resolves once the health gate passed. */
  public readonly clientCertPem: pulumi.Output<string>;
  /** The client certificate's key. Secret. Resolves once the health gate passed. */
  public readonly clientKeyPem: pulumi.Output<string>;
  /** The CA, to issue more certificates from it (not gated: issuing needs no running cluster). */
  public readonly ca: CaKeyPairArgs;

  constructor(name: string, args: EtcdClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:EtcdCluster", name, {}, opts);
    const component = `EtcdCluster ${name}`;
    const check = argsChecker(validateEtcdClusterArgs, component, this);
    check.now(args);
    // The args once every member address is known, checked again by the same rules.
    const known = check.whenKnown(knownHosts(args.members).apply((members) => ({ ...args, members })));

    const token = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
    const resolved = known.apply((k) => resolveEtcdCluster(name, k, token));
    const cert = args.certificates ?? {};
    const ca: CaKeyPairArgs =
      args.ca ??
      new CertificateAuthority(
        `${name}-ca`,
        { commonName: `${name}-etcd-ca`, keyAlgorithm: cert.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM },
        { parent: this },
      );
    const issue = (id: string, commonName: string, role: CertificateRole, altNames: pulumi.Input<string>[]) =>
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
    const roster = resolved.apply((r) =>
      renderRoster(r.members, r.members[0].clientPort, r.members[0].peerPort),
    );

    let previousConfigure: pulumi.Resource | undefined;
    let previousMember: pulumi.Resource | undefined;
    // Member steps go one at a time in member order; with recoverQuorum the survivor's comes first (the
    // others can only rejoin it).
    const order = args.members.map((_, i) => i);
    const survivor = args.members.findIndex((m) => m.name === args.recoverQuorum?.from);
    if (survivor > 0) order.unshift(...order.splice(survivor, 1));
    const configures: remote.Command[] = [];
    const memberSteps: remote.Command[] = [];
    const connections: pulumi.Output<pulumi.Unwrap<ConnectionArgs>>[] = [];
    order.forEach((i) => {
      const host = args.members[i];
      const s = resolved.apply((r) => r.members[i]);
      const address = s.apply((m) => m.address);
      const prefix = `${name}-${host.name}`;
      const server = issue(`${host.name}-server`, host.name, CertificateRole.Server, [
        address,
        host.name,
        "127.0.0.1",
        "localhost",
      ]);
      const peer = issue(`${host.name}-peer`, host.name, CertificateRole.Peer, [address, host.name]);
      const connection = checkedConnection(host.connection, `members[${i}].connection`, component, known);
      connections[i] = connection;

      const install = new remote.Command(
        `${prefix}-install`,
        {
          connection,
          create: resolved.apply((r) => renderInstallScript({ ...r.install, name: host.name })),
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
          create: s.apply(renderConfigureScript),
          stdin: pulumi.secret(pki),
          // The script prints only paths; stdout is still kept out of the log as a second line of defence.
          logging: "stderr",
          delete: `rm -rf ${CONFIG_DIR} ${UNIT_FILE} && systemctl daemon-reload`,
          ...COMMAND_DEFAULTS,
        },
        { parent: this, dependsOn: previousConfigure ? [install, previousConfigure] : [install] },
      );
      const memberScript = s.apply(renderMemberScript);
      const member = new remote.Command(
        `${prefix}-member`,
        {
          connection,
          create: memberScript,
          update: memberScript,
          delete: s.apply(renderRemoveScript),
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

    const healthScript = resolved.apply((r) => renderHealthGateScript(r.members[0]));
    const health = new remote.Command(
      `${name}-health`,
      {
        connection: checkedConnection(args.members[0].connection, "members[0].connection", component, known),
        create: healthScript,
        update: healthScript,
        stdin: roster,
        // Run again whenever a member was (re)configured or (re)started.
        triggers: [...configures, ...memberSteps].map((c) => c.stdout),
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: memberSteps },
    );

    // Scheduled snapshots (args.backup): per member, once the cluster is healthy. A separate step from
    // configure, so that installing or changing the timer never restarts etcd.
    const backup = args.backup;
    if (backup) {
      const recipient = pulumi.output(backup.encryptTo?.certificatePem);
      const copyKey = pulumi.secret(
        pulumi.output(backup.copyTo?.privateKey).apply((key) => renderFileBundle(backupSecretFiles(key))),
      );
      args.members.forEach((host, i) => {
        const settings = pulumi.all([resolved, recipient]).apply(([r, pem]) => {
          // The recipient certificate may have been an Output: the constructor's rule, once known.
          const problems = backupProblems({
            ...backup,
            encryptTo: backup.encryptTo && { certificatePem: pem },
          });
          if (problems.length > 0) throw lateInvalidArguments(component, problems);
          return resolveBackup(backup, r.members[i], i, r.members.length, pem);
        });
        const script = settings.apply(renderBackupInstallScript);
        new remote.Command(
          `${name}-${host.name}-backup`,
          {
            connection: connections[i],
            create: script,
            update: script,
            delete: settings.apply(renderBackupRemoveScript),
            stdin: copyKey,
            logging: "stderr",
            ...COMMAND_DEFAULTS,
          },
          { parent: this, dependsOn: [health] },
        );
      });
    }

    // Scheduled defragmentation (args.defrag): per member, once the cluster is healthy.
    const defrag = args.defrag;
    if (defrag) {
      args.members.forEach((host, i) => {
        const settings = resolved.apply((r) => resolveDefrag(defrag, r.members[i], i, r.members.length));
        const script = settings.apply(renderDefragInstallScript);
        new remote.Command(
          `${name}-${host.name}-defrag`,
          {
            connection: connections[i],
            create: script,
            update: script,
            delete: settings.apply(renderDefragRemoveScript),
            ...COMMAND_DEFAULTS,
          },
          { parent: this, dependsOn: [health] },
        );
      });
    }

    // Every output waits for the health gate: its consumers run against a healthy cluster.
    const healthy = health.stdout;
    this.clientEndpoints = after(
      healthy,
      resolved.apply((r) => r.members.map((m) => memberUrls(m.address, m.clientPort, m.peerPort).client)),
    );
    this.memberNames = after(
      healthy,
      args.members.map((m) => m.name),
    );
    this.caCertPem = after(healthy, ca.certPem);
    this.clientCertPem = after(healthy, client.certPem);
    this.clientKeyPem = pulumi.secret(after(healthy, client.privateKeyPem));
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
