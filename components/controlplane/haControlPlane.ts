import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { remote } from "@pulumi/command";
import { enforce } from "../errors";
import { secretConnection } from "../hosts";
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
  renderEncryptionConfiguration,
  renderKubeconfig,
  workerFiles,
} from "./render/files";
import { renderInitConfig, renderJoinConfig } from "./render/kubeadm";
import { renderPrepareScript } from "./render/prepare";
import { renderInitScript, renderJoinScript, renderReadyScript, renderTokenScript } from "./render/scripts";
import { resolveHaControlPlane } from "./settings";
import { EtcdTopology, HaControlPlaneArgs } from "./types";
import { apiServerEtcdEndpoints, externalEtcdEndpointProblems, validateHaControlPlaneArgs } from "./validate";

/**
 * Inputs every command gets. The scripts never read their previous output, and passing it would need
 * `AcceptEnv` in the hosts' sshd (without it @pulumi/command's update and delete fail).
 */
const COMMAND_DEFAULTS = { addPreviousOutputInEnv: false };

/**
 * A highly available Kubernetes control plane made with kubeadm over SSH, behind the VIP or load balancer
 * `endpoint`, with optional workers and pod network, and a kubeconfig built in the program.
 *
 * The PKI is made here once (@pulumi/tls, @pulumi/random) and the same on every master: the cluster CA,
 * the front-proxy CA, the service-account key pair, the etcd CA (stacked etcd) and the bootstrap token;
 * kubeadm makes each master's own certificates from the CAs it finds in /etc/kubernetes/pki. Keys, the
 * token and kubeadm's configuration travel on stdin, never in a command line.
 *
 * Order (dependsOn): every host's `prepare` in parallel; `<first master>-init`; `token` (renews the
 * bootstrap token); the other masters' `join` one at a time, in order (stacked etcd grows one member at a
 * time); the workers' `join` in parallel; `ready` (the endpoint and every API server answer /readyz, every
 * node is registered); then the provider and the CNI.
 *
 * The endpoint must already forward to the first master's API server port when `kubeadm init` runs
 * (kubeadm talks to the API through it): create the KeepalivedVip or LoadBalancer first and pass it in
 * `dependsOn`.
 *
 * Removing a host from the args does not remove it from the cluster (no drain, no `kubeadm reset`, no etcd
 * member removal yet): do that by hand first.
 */
export class HaControlPlane extends pulumi.ComponentResource {
  /** A kubeconfig for "kubernetes-admin" (group kubeadm:cluster-admins), server https://<endpoint>. Secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** A Kubernetes provider (@pulumi/kubernetes) on `kubeconfig`, usable once the readiness gate has passed. */
  public readonly provider: k8s.Provider;
  /** The "host:port" every client uses. */
  public readonly endpoint: pulumi.Output<string>;
  /** The cluster CA certificate (what clients trust). */
  public readonly caCertPem: pulumi.Output<string>;

  constructor(name: string, args: HaControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:HaControlPlane", name, {}, opts);
    enforce(validateHaControlPlaneArgs(args), `HaControlPlane ${name}`, this);
    const s = resolveHaControlPlane(name, args);
    const child = { parent: this };
    const keyAlgorithm = args.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    const stacked = s.etcdTopology === EtcdTopology.Stacked;

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
        organization: s.adminGroup,
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
    const encryptionKey = s.secretsEncryption
      ? new random.RandomBytes(`${name}-encryption-key`, { length: SECRETS_ENCRYPTION_KEY_BYTES }, child)
      : undefined;

    const externalEtcd = stacked ? undefined : args.etcd;
    const etcdEndpoints: pulumi.Output<string[] | undefined> = externalEtcd
      ? pulumi.output(externalEtcd.endpoints ?? []).apply((eps) => {
          const colocated = externalEtcd.colocated === true;
          const problems = externalEtcdEndpointProblems(eps, colocated);
          if (problems.length > 0) {
            throw new pulumi.ResourceError(
              `HaControlPlane ${name} has invalid arguments:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
              this,
            );
          }
          return apiServerEtcdEndpoints(eps, colocated);
        })
      : pulumi.output(undefined);

    // What every master receives besides its kubeadm configuration.
    const shared: pulumi.Output<Omit<MasterFileContents, "kubeadmConfig">> = pulumi
      .all({
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
      })
      .apply((p) => ({
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
        auditPolicy: s.audit?.policy,
        encryptionConfig:
          s.secretsEncryption && p.encryptionKey !== undefined
            ? renderEncryptionConfiguration(s.secretsEncryption.provider, p.encryptionKey)
            : undefined,
      }));

    const connections = new Map(
      [...args.masters, ...(args.workers ?? [])].map((h) => [h.name, secretConnection(h.connection)]),
    );
    const prepares = new Map(
      [...s.masters, ...s.workers].map((node) => [
        node.name,
        new remote.Command(
          `${name}-${node.name}-prepare`,
          {
            connection: connections.get(node.name)!,
            create: renderPrepareScript(s, node),
            ...COMMAND_DEFAULTS,
          },
          child,
        ),
      ]),
    );

    // The masters: init on the first, then the token renewal, then one join after another.
    const first = s.masters[0];
    const firstConnection = connections.get(first.name)!;
    const initConfig = pulumi
      .all([token, etcdEndpoints])
      .apply(([t, eps]) => renderInitConfig(s, first, t, eps));
    const init = new remote.Command(
      `${name}-${first.name}-init`,
      {
        connection: firstConnection,
        create: renderInitScript(s, first),
        stdin: masterBundle(s.etcdTopology, shared, initConfig),
        // The scripts print only paths and states; stdout stays out of the log as a second line of defence.
        logging: "stderr",
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: [prepares.get(first.name)!] },
    );
    const tokenStep = new remote.Command(
      `${name}-token`,
      {
        connection: firstConnection,
        create: renderTokenScript(s, first),
        stdin: pulumi.secret(
          token.apply((t) => renderBootstrapTokenSecret(t, `hakube HaControlPlane ${name} join token`)),
        ),
        logging: "stderr",
        // Run again whenever nodes are added, so that they join with a token valid for another 24 hours.
        triggers: [[...s.masters, ...s.workers].map((n) => n.name).join(",")],
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: [init] },
    );
    const masterSteps: remote.Command[] = [init];
    for (const node of s.masters.slice(1)) {
      const config = pulumi
        .all([token, caCertHash])
        .apply(([t, h]) => renderJoinConfig(s, node, { token: t, caCertHash: h }, true));
      masterSteps.push(
        new remote.Command(
          `${name}-${node.name}-join`,
          {
            connection: connections.get(node.name)!,
            create: renderJoinScript(s, node, true),
            stdin: masterBundle(s.etcdTopology, shared, config),
            logging: "stderr",
            ...COMMAND_DEFAULTS,
          },
          {
            parent: this,
            dependsOn: [prepares.get(node.name)!, masterSteps[masterSteps.length - 1], tokenStep],
          },
        ),
      );
    }
    const controlPlaneDone = masterSteps[masterSteps.length - 1];

    // The workers: in parallel, once every master has joined.
    const workerSteps = s.workers.map((node) => {
      const config = pulumi
        .all([token, caCertHash])
        .apply(([t, h]) =>
          renderFileBundle(workerFiles(renderJoinConfig(s, node, { token: t, caCertHash: h }, false))),
        );
      return new remote.Command(
        `${name}-${node.name}-join`,
        {
          connection: connections.get(node.name)!,
          create: renderJoinScript(s, node, false),
          stdin: pulumi.secret(config),
          logging: "stderr",
          ...COMMAND_DEFAULTS,
        },
        { parent: this, dependsOn: [prepares.get(node.name)!, controlPlaneDone, tokenStep] },
      );
    });

    const ready = new remote.Command(
      `${name}-ready`,
      {
        connection: firstConnection,
        create: renderReadyScript(s, first),
        // Run again whenever a node was set up again.
        triggers: [...masterSteps, ...workerSteps].map((c) => c.stdout),
        ...COMMAND_DEFAULTS,
      },
      { parent: this, dependsOn: [...masterSteps, ...workerSteps] },
    );

    this.kubeconfig = pulumi.secret(
      pulumi.all([ca.certPem, admin.certPem, admin.privateKeyPem]).apply(([caPem, certPem, keyPem]) =>
        renderKubeconfig({
          clusterName: s.clusterName,
          server: `https://${s.endpoint.hostPort}`,
          caCertPem: caPem,
          clientCertPem: certPem,
          clientKeyPem: keyPem,
        }),
      ),
    );
    this.provider = new k8s.Provider(
      `${name}-provider`,
      { kubeconfig: this.kubeconfig },
      { parent: this, dependsOn: [ready] },
    );

    if (args.cni) {
      const chart = cniChart(args.cni.kind, args.cni.repository);
      new k8s.helm.v3.Release(
        `${name}-cni`,
        {
          name: args.cni.kind,
          chart: chart.chart,
          version: args.cni.version,
          namespace: chart.namespace,
          createNamespace: chart.namespace !== "kube-system",
          repositoryOpts: { repo: chart.repository },
          values: { ...cniChartValues(args.cni.kind, s), ...(args.cni.values ?? {}) },
          timeout: CNI_TIMEOUT_SECONDS,
        },
        { parent: this, provider: this.provider, dependsOn: [ready] },
      );
    }

    this.endpoint = pulumi.output(s.endpoint.hostPort);
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
