import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { remote } from "@pulumi/command";
import { argsChecker } from "../errors";
import { checkedConnection, COMMAND_DEFAULTS, knownHosts } from "../hosts";
import { hostSteps, Rollout } from "../steps";
import { after } from "../outputs";
import { CaKeyPairArgs, CertificateAuthority, issueCertificate } from "../pki/certificateAuthority";
import { CertificateRole, tlsKeyParameters } from "../pki/profiles";
import { renderFileBundle } from "../shell";
import {
  ADMIN_COMMON_NAME,
  CNI_TIMEOUT_SECONDS,
  DEFAULT_KEY_ALGORITHM,
  DEFAULT_SERVICE_ACCOUNT_KEY_ALGORITHM,
  SECRETS_ENCRYPTION_KEY_BYTES,
} from "./defaults";
import { discoveryTokenCaCertHash } from "./discovery";
import { cniChart, cniChartValues } from "./render/cni";
import {
  masterFiles,
  MasterFileContents,
  renderBootstrapTokenSecret,
  renderAuditPolicy,
  renderEncryptionConfiguration,
  renderKubeconfig,
  workerFiles,
} from "./render/files";
import { renderInitConfig, renderJoinConfig } from "./render/kubeadm";
import { renderPrepareScript } from "./render/prepare";
import { renderInitScript, renderJoinScript, renderReadyScript, renderTokenScript } from "./render/scripts";
import { adminGroup, resolveHaControlPlane } from "./settings";
import { ControlPlaneSettings, EtcdTopology, HaControlPlaneArgs, KnownHaControlPlaneArgs } from "./types";
import { apiServerEtcdEndpoints, parseKubernetesVersion, validateHaControlPlaneArgs } from "./validate";

/**
 * A highly available Kubernetes control plane made with kubeadm over SSH, behind the VIP or load balancer
 * `endpoint`, with optional workers and pod network, and a kubeconfig built in the program.
 *
 * The PKI is made here once (@pulumi/tls, @pulumi/random) and the same on every master: the cluster CA,
 * the front-proxy CA, the service-account key pair, the etcd CA (stacked etcd) and the bootstrap token;
 * kubeadm makes each master's own certificates from the CAs it finds in /etc/kubernetes/pki. Keys, the
 * token and kubeadm's configuration travel on stdin, never in a command line.
 *
 * Order: every host's `prepare` in parallel; `<first master>-init`; `token` (renews the bootstrap token);
 * the other masters' `join` one at a time, in order (stacked etcd grows one member at a time); the
 * workers' `join` in parallel; `ready` (the endpoint and every API server answer /readyz, every node is
 * registered); then the provider and the CNI.
 *
 * The endpoint must already forward to the first master's API server port when `kubeadm init` runs
 * (kubeadm talks to the API through it), and an external etcd must be healthy. Both come through the
 * outputs: every command waits for the args' Outputs (addresses, `endpoint`, external etcd's endpoints and
 * CA), and a KeepalivedVip's or LoadBalancer's `endpoint` resolves only once it forwards, an EtcdCluster's
 * outputs only once its health gate passed. No `dependsOn` is needed.
 *
 * Removing a host from the args does not remove it from the cluster (no drain, no `kubeadm reset`, no etcd
 * member removal yet): do that by hand first.
 */
export class HaControlPlane extends pulumi.ComponentResource {
  /**
   * A kubeconfig for "kubernetes-admin" (group kubeadm:cluster-admins), server https://<endpoint>. Secret.
   * Resolves once the readiness gate passed: a provider or tool given it finds a working cluster.
   */
  public readonly kubeconfig: pulumi.Output<string>;
  /** A Kubernetes provider (@pulumi/kubernetes) on `kubeconfig`, usable once the readiness gate has passed. */
  public readonly provider: k8s.Provider;
  /** The "host:port" every client uses. Resolves once the readiness gate passed. */
  public readonly endpoint: pulumi.Output<string>;
  /** The cluster CA certificate (what clients trust). Not gated. */
  public readonly caCertPem: pulumi.Output<string>;

  constructor(name: string, args: HaControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:HaControlPlane", name, {}, opts);
    const component = `HaControlPlane ${name}`;
    const check = argsChecker((a: HaControlPlaneArgs) => validateHaControlPlaneArgs(a), component, this);
    check.now(args);
    const child = { parent: this };
    const keyAlgorithm = args.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    const topology = args.etcd?.topology ?? EtcdTopology.Stacked;
    const stacked = topology === EtcdTopology.Stacked;
    const externalEtcd = stacked ? undefined : args.etcd;
    const workerHosts = args.workers ?? [];

    // The args once every Output in them resolved, checked again by the same rules: what is rendered.
    const known = check.whenKnown(
      pulumi
        .all([
          knownHosts(args.masters),
          knownHosts(workerHosts),
          pulumi.output(args.endpoint),
          pulumi.output(externalEtcd?.endpoints),
          pulumi.output(externalEtcd?.caCertPem),
          pulumi.output(args.ca?.certPem),
        ])
        .apply(([masters, workers, endpoint, endpoints, etcdCa, caCert]): KnownHaControlPlaneArgs => ({
          ...args,
          masters,
          workers: args.workers === undefined ? undefined : workers,
          endpoint,
          etcd: args.etcd && { ...args.etcd, endpoints, caCertPem: etcdCa },
          ca: args.ca && { ...args.ca, certPem: caCert as string },
        })),
    );
    const s: pulumi.Output<ControlPlaneSettings> = known.apply((k) => resolveHaControlPlane(name, k));

    // The PKI, made once and the same on every master.
    const ca: CaKeyPairArgs =
      args.ca ?? new CertificateAuthority(`${name}-ca`, { commonName: "kubernetes", keyAlgorithm }, child);
    const frontProxyCa = new CertificateAuthority(
      `${name}-front-proxy-ca`,
      { commonName: "front-proxy-ca", keyAlgorithm },
      child,
    );
    const etcdCa = stacked
      ? new CertificateAuthority(`${name}-etcd-ca`, { commonName: "etcd-ca", keyAlgorithm }, child)
      : undefined;
    const saKey = new tls.PrivateKey(
      `${name}-sa-key`,
      tlsKeyParameters(args.serviceAccountKeyAlgorithm ?? DEFAULT_SERVICE_ACCOUNT_KEY_ALGORITHM),
      child,
    );
    const admin = issueCertificate(
      `${name}-admin`,
      ca,
      {
        commonName: ADMIN_COMMON_NAME,
        organization: adminGroup(parseKubernetesVersion(args.kubernetesVersion)!.minor),
        role: CertificateRole.Client,
        keyAlgorithm,
      },
      child,
    );

    // The bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}" and the CA hash: all a joining node needs.
    const tokenId = new random.RandomString(
      `${name}-token-id`,
      { length: 6, upper: false, special: false, lower: true, numeric: true },
      child,
    );
    const tokenSecret = new random.RandomPassword(
      `${name}-token-secret`,
      { length: 16, upper: false, special: false, lower: true, numeric: true },
      child,
    );
    const token = pulumi.secret(
      pulumi.all([tokenId.result, tokenSecret.result]).apply(([i, t]) => `${i}.${t}`),
    );
    const caCertHash = pulumi.output(ca.certPem).apply(discoveryTokenCaCertHash);
    const encryptionKey =
      args.apiServer?.secretsEncryption?.enabled !== false
        ? new random.RandomBytes(`${name}-encryption-key`, { length: SECRETS_ENCRYPTION_KEY_BYTES }, child)
        : undefined;

    // What every master receives besides its kubeadm configuration.
    const pems = pulumi.all({
      caCert: ca.certPem,
      caKey: ca.privateKeyPem,
      frontProxyCaCert: frontProxyCa.certPem,
      frontProxyCaKey: frontProxyCa.privateKeyPem,
      saKey: saKey.privateKeyPem,
      saPub: saKey.publicKeyPem,
      etcdCaCert: etcdCa ? etcdCa.certPem : externalEtcd?.caCertPem,
      etcdCaKey: etcdCa?.privateKeyPem,
      etcdClientCert: externalEtcd?.clientCertPem,
      etcdClientKey: externalEtcd?.clientKeyPem,
      encryptionKey: encryptionKey?.base64,
    });
    const shared: pulumi.Output<Omit<MasterFileContents, "kubeadmConfig">> = pulumi
      .all([s, pems])
      .apply(([x, p]) => ({
        caCert: p.caCert as string,
        caKey: p.caKey as string,
        frontProxyCaCert: p.frontProxyCaCert as string,
        frontProxyCaKey: p.frontProxyCaKey as string,
        saKey: p.saKey as string,
        saPub: p.saPub as string,
        etcdCaCert: p.etcdCaCert as string,
        etcdCaKey: p.etcdCaKey,
        apiServerEtcdClientCert: p.etcdClientCert,
        apiServerEtcdClientKey: p.etcdClientKey,
        auditPolicy: x.audit && renderAuditPolicy(x.audit),
        encryptionConfig:
          x.secretsEncryption && p.encryptionKey !== undefined
            ? renderEncryptionConfiguration(x.secretsEncryption.provider, p.encryptionKey)
            : undefined,
      }));

    // Every host's connection waits for the checked args: no command runs before they passed.
    const hosts = [
      ...args.masters.map((h, i) => ({ host: h, path: `masters[${i}]`, master: true, index: i })),
      ...workerHosts.map((h, i) => ({ host: h, path: `workers[${i}]`, master: false, index: i })),
    ];
    const connections = new Map(
      hosts.map(({ host, path }) => [
        host.name,
        checkedConnection(host.connection, `${path}.connection`, component, known),
      ]),
    );
    const node = (x: ControlPlaneSettings, master: boolean, index: number) =>
      master ? x.masters[index] : x.workers[index];
    const [prepares] = hostSteps(
      name,
      hosts.map(({ host }) => ({ name: host.name, connection: connections.get(host.name)! })),
      [
        {
          step: "prepare",
          rollout: Rollout.Parallel,
          args: (i) => {
            const { master, index } = hosts[i];
            return { create: s.apply((x) => renderPrepareScript(x, node(x, master, index))) };
          },
        },
      ],
      { opts: child },
    );
    const prepareOf = (host: string) => prepares[hosts.findIndex((h) => h.host.name === host)];

    // The masters: init on the first, then the token renewal, then one join after another.
    const first = args.masters[0];
    const firstConnection = connections.get(first.name)!;
    const initConfig = pulumi
      .all([known, s, token])
      .apply(([k, x, t]) =>
        renderInitConfig(
          x,
          x.masters[0],
          t,
          stacked ? undefined : apiServerEtcdEndpoints(k.etcd?.endpoints ?? [], k.etcd?.colocated === true),
        ),
      );
    const init = new remote.Command(
      `${name}-${first.name}-init`,
      {
        connection: firstConnection,
        create: s.apply((x) => renderInitScript(x, x.masters[0])),
        stdin: masterBundle(topology, shared, initConfig),
        // The scripts print only paths and states; stdout stays out of the log as a second line of defence.
        logging: "stderr",
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: [prepareOf(first.name)] },
    );
    const tokenStep = new remote.Command(
      `${name}-token`,
      {
        connection: firstConnection,
        create: s.apply((x) => renderTokenScript(x, x.masters[0])),
        stdin: pulumi.secret(
          token.apply((t) => renderBootstrapTokenSecret(t, `hakube HaControlPlane ${name} join token`)),
        ),
        logging: "stderr",
        // Run again whenever nodes are added, so that they join with a token valid for another 24 hours.
        triggers: [hosts.map((h) => h.host.name).join(",")],
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: [init] },
    );
    const joiners = args.masters.slice(1);
    const [joins] = hostSteps(
      name,
      joiners.map((host) => ({ name: host.name, connection: connections.get(host.name)! })),
      [
        {
          // Stacked etcd grows one member at a time.
          step: "join",
          rollout: Rollout.Serial,
          after: [tokenStep],
          args: (j) => {
            const i = j + 1;
            const config = pulumi
              .all([s, token, caCertHash])
              .apply(([x, t, h]) => renderJoinConfig(x, x.masters[i], { token: t, caCertHash: h }, true));
            return {
              create: s.apply((x) => renderJoinScript(x, x.masters[i], true)),
              stdin: masterBundle(topology, shared, config),
              logging: "stderr",
            };
          },
        },
      ],
      { opts: { parent: this }, hostAfter: (j) => [prepareOf(joiners[j].name)], chainAfter: init },
    );
    const masterSteps = [init, ...joins];
    const controlPlaneDone = masterSteps[masterSteps.length - 1];

    // The workers: in parallel, once every master has joined.
    const [workerSteps] = hostSteps(
      name,
      workerHosts.map((host) => ({ name: host.name, connection: connections.get(host.name)! })),
      [
        {
          step: "join",
          rollout: Rollout.Parallel,
          after: [controlPlaneDone, tokenStep],
          args: (i) => {
            const config = pulumi
              .all([s, token, caCertHash])
              .apply(([x, t, h]) =>
                renderFileBundle(
                  workerFiles(renderJoinConfig(x, x.workers[i], { token: t, caCertHash: h }, false)),
                ),
              );
            return {
              create: s.apply((x) => renderJoinScript(x, x.workers[i], false)),
              stdin: pulumi.secret(config),
              logging: "stderr",
            };
          },
        },
      ],
      { opts: { parent: this }, hostAfter: (i) => [prepareOf(workerHosts[i].name)] },
    );

    const ready = new remote.Command(
      `${name}-ready`,
      {
        connection: firstConnection,
        create: s.apply((x) => renderReadyScript(x, x.masters[0])),
        // Run again whenever a node was set up again.
        triggers: [...masterSteps, ...workerSteps].map((c) => c.stdout),
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: [...masterSteps, ...workerSteps] },
    );

    // The kubeconfig and endpoint wait for the readiness gate: their consumers find a working cluster.
    this.kubeconfig = pulumi.secret(
      after(
        ready.stdout,
        pulumi.all([s, ca.certPem, admin.certPem, admin.privateKeyPem]).apply(([x, caPem, certPem, keyPem]) =>
          renderKubeconfig({
            clusterName: x.clusterName,
            server: `https://${x.endpoint.hostPort}`,
            caCertPem: caPem,
            clientCertPem: certPem,
            clientKeyPem: keyPem,
          }),
        ),
      ),
    );
    this.provider = new k8s.Provider(
      `${name}-provider`,
      { kubeconfig: this.kubeconfig },
      { parent: this, dependsOn: [ready] },
    );

    if (args.cni) {
      const cni = args.cni;
      const chart = cniChart(cni.kind, cni.repository);
      new k8s.helm.v3.Release(
        `${name}-cni`,
        {
          name: cni.kind,
          chart: chart.chart,
          version: cni.version,
          namespace: chart.namespace,
          createNamespace: chart.namespace !== "kube-system",
          repositoryOpts: { repo: chart.repository },
          values: s.apply((x) => ({ ...cniChartValues(cni.kind, x), ...(cni.values ?? {}) })),
          timeout: CNI_TIMEOUT_SECONDS,
        },
        { parent: this, provider: this.provider, dependsOn: [ready] },
      );
    }

    this.endpoint = after(
      ready.stdout,
      s.apply((x) => x.endpoint.hostPort),
    );
    this.caCertPem = pulumi.output(ca.certPem);
    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      provider: this.provider,
      endpoint: this.endpoint,
      caCertPem: this.caCertPem,
    });
  }
}

/** A master's stdin: its files and kubeadm configuration as a bundle, secret. */
function masterBundle(
  topology: EtcdTopology,
  shared: pulumi.Output<Omit<MasterFileContents, "kubeadmConfig">>,
  kubeadmConfig: pulumi.Output<string>,
): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([shared, kubeadmConfig])
      .apply(([files, config]) =>
        renderFileBundle(masterFiles(topology, { ...files, kubeadmConfig: config })),
      ),
  );
}
