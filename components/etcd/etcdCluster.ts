import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { argsChecker } from "../errors";
import { checkedConnection, COMMAND_DEFAULTS, knownHosts } from "../hosts";
import { hostSteps, Rollout } from "../steps";
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
import { renderUpgradeScript } from "./render/upgrade";
import { InstallMethod } from "../install";
import { resolveEtcdCluster } from "./settings";
import { EtcdClusterArgs } from "./types";
import { validateEtcdClusterArgs } from "./validate";
import { backupProblems, resolveBackup } from "./backup";
import { backupSecretFiles, renderBackupInstallScript, renderBackupRemoveScript } from "./render/backup";
import { lateInvalidArguments } from "../errors";
import { countOf, EtcdClusterFacts } from "../facts";
import { renderDefragInstallScript, renderDefragRemoveScript, resolveDefrag } from "./defrag";

/**
 * An etcd cluster with mutual TLS on client and peer ports, installed and configured over SSH.
 *
 * Per member, in order: certificates (@pulumi/tls), `install` (on a member with data, a new release is
 * only staged), `upgrade` (release installs: a changed `version` rolls through the members one at a time,
 * leader last, each while the others keep quorum), `configure` (files; the configure steps of all members
 * run one after another, so a change rolls through them), `member` (bootstrap or join; joins and removals
 * go one member at a time, in member order). Last, a health gate on the first member fails
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
    const facts: EtcdClusterFacts = { memberCount: countOf(args.members) };
    super("hakube:index:EtcdCluster", name, facts, opts);
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

    const connections = args.members.map((host, i) =>
      checkedConnection(host.connection, `members[${i}].connection`, component, known),
    );
    const memberPki = args.members.map((host, i) => {
      const address = resolved.apply((r) => r.members[i].address);
      const server = issue(`${host.name}-server`, host.name, CertificateRole.Server, [
        address,
        host.name,
        "127.0.0.1",
        "localhost",
      ]);
      const peer = issue(`${host.name}-peer`, host.name, CertificateRole.Peer, [address, host.name]);
      return pulumi
        .all([ca.certPem, server.certPem, server.privateKeyPem, peer.certPem, peer.privateKeyPem])
        .apply(([caPem, serverCert, serverKey, peerCert, peerKey]) =>
          renderFileBundle(memberPkiFiles({ ca: caPem, serverCert, serverKey, peerCert, peerKey })),
        );
    });
    // Member steps go one at a time in member order; with recoverQuorum the survivor's comes first (the
    // others can only rejoin it). `order[j]` is the member the j-th host of the chain is.
    const order = args.members.map((_, i) => i);
    const survivor = args.members.findIndex((m) => m.name === args.recoverQuorum?.from);
    if (survivor > 0) order.unshift(...order.splice(survivor, 1));
    const member = (j: number) => resolved.apply((r) => r.members[order[j]]);
    const chain = order.map((i) => ({ name: args.members[i].name, connection: connections[i] }));
    // Install (parallel; on a member with data a new release is only staged), then, for release
    // installs, the rolling upgrade: one member at a time, leader last (render/upgrade.ts).
    const release = (args.install?.method ?? InstallMethod.Release) === InstallMethod.Release;
    const [installs, upgrades = []] = hostSteps(
      name,
      chain,
      [
        {
          step: "install",
          rollout: Rollout.Parallel,
          args: (j) => ({
            create: resolved.apply((r) =>
              renderInstallScript({ ...r.install, name: args.members[order[j]].name }),
            ),
          }),
        },
        ...(release
          ? [
              {
                step: "upgrade",
                rollout: Rollout.Serial,
                args: (j: number) => {
                  const script = resolved.apply((r) =>
                    renderUpgradeScript(r.members[order[j]], {
                      version: r.install.version!,
                      stageDir: r.install.stageDir!,
                      order: order.map((i) => r.members[i].name),
                    }),
                  );
                  return { create: script, update: script };
                },
              },
            ]
          : []),
      ],
      { opts: { parent: this } },
    );
    // Configuration and membership once every member is upgraded (a restart for either never overlaps
    // an upgrade's).
    const [configures, memberSteps] = hostSteps(
      name,
      chain,
      [
        {
          // Files and a restart: a change rolls through the members.
          step: "configure",
          rollout: Rollout.Serial,
          args: (j) => ({
            create: member(j).apply(renderConfigureScript),
            stdin: pulumi.secret(memberPki[order[j]]),
            // The script prints only paths; stdout is still kept out of the log as a second line of defence.
            logging: "stderr",
            delete: `rm -rf ${CONFIG_DIR} ${UNIT_FILE} && systemctl daemon-reload`,
          }),
        },
        {
          // Bootstrap or join, and removal: one member at a time.
          step: "member",
          rollout: Rollout.Serial,
          args: (j) => {
            const script = member(j).apply(renderMemberScript);
            return {
              create: script,
              update: script,
              delete: member(j).apply(renderRemoveScript),
              stdin: roster,
            };
          },
        },
      ],
      { opts: { parent: this }, hostAfter: (j) => (release ? upgrades : [installs[j]]) },
    );

    const healthScript = resolved.apply((r) => renderHealthGateScript(r.members[0]));
    const health = new remote.Command(
      `${name}-health`,
      {
        connection: connections[0],
        create: healthScript,
        update: healthScript,
        stdin: roster,
        // Run again whenever a member was upgraded, (re)configured or (re)started.
        triggers: [...upgrades, ...configures, ...memberSteps].map((c) => c.stdout),
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: memberSteps },
    );

    // Day-2 timers, per member once the cluster is healthy; separate steps from configure, so that
    // installing or changing them never restarts etcd.
    const hosts = args.members.map((host, i) => ({ name: host.name, connection: connections[i] }));
    const backup = args.backup;
    if (backup) {
      // Scheduled snapshots (args.backup).
      const recipient = pulumi.output(backup.encryptTo?.certificatePem);
      const s3Bucket = pulumi.output(backup.s3?.bucket);
      const s3Region = pulumi.output(backup.s3?.region);
      const copyKey = pulumi.secret(
        pulumi.output(backup.copyTo?.privateKey).apply((key) => renderFileBundle(backupSecretFiles(key))),
      );
      hostSteps(
        name,
        hosts,
        [
          {
            step: "backup",
            rollout: Rollout.Parallel,
            after: [health],
            args: (i) => {
              const settings = pulumi
                .all([resolved, recipient, s3Bucket, s3Region])
                .apply(([r, pem, bucket, region]) => {
                  // The recipient certificate, the bucket and its region may have been Outputs: the
                  // constructor's rules, once known.
                  const plain = {
                    ...backup,
                    s3: backup.s3 && { bucket: bucket!, prefix: backup.s3.prefix, region: region! },
                  };
                  const problems = backupProblems({
                    ...plain,
                    encryptTo: backup.encryptTo && { certificatePem: pem },
                  });
                  if (problems.length > 0) throw lateInvalidArguments(component, problems);
                  return resolveBackup(plain, r.members[i], i, r.members.length, pem);
                });
              const script = settings.apply(renderBackupInstallScript);
              return {
                create: script,
                update: script,
                delete: settings.apply(renderBackupRemoveScript),
                stdin: copyKey,
                logging: "stderr",
              };
            },
          },
        ],
        { opts: { parent: this } },
      );
    }
    const defrag = args.defrag;
    if (defrag) {
      // Scheduled defragmentation (args.defrag).
      hostSteps(
        name,
        hosts,
        [
          {
            step: "defrag",
            rollout: Rollout.Parallel,
            after: [health],
            args: (i) => {
              const settings = resolved.apply((r) =>
                resolveDefrag(defrag, r.members[i], i, r.members.length),
              );
              const script = settings.apply(renderDefragInstallScript);
              return { create: script, update: script, delete: settings.apply(renderDefragRemoveScript) };
            },
          },
        ],
        { opts: { parent: this } },
      );
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
