import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { argsChecker } from "../errors";
import { after } from "../outputs";
import { countOf, HaControlPlaneFacts } from "../facts";
import { DEFAULT_KEY_ALGORITHM, DEFAULT_SERVICE_ACCOUNT_KEY_ALGORITHM } from "./defaults";
import {
  controlPlaneHosts,
  ControlPlaneContext,
  init,
  joinMasters,
  joinWorkers,
  knownArgs,
  prepare,
  providerAndCni,
  readiness,
  sharedMasterFiles,
} from "./phases";
import { ControlPlanePki } from "./pki";
import { renderKubeconfig } from "./render/files";
import { adminGroup, resolveHaControlPlane } from "./settings";
import { EtcdTopology, HaControlPlaneArgs } from "./types";
import { validateHaControlPlaneArgs } from "./validate";
import { parseKubernetesVersion } from "./versions";

/**
 * A highly available Kubernetes control plane made with kubeadm over SSH, behind the VIP or load balancer
 * `endpoint`, with optional workers and pod network, and a kubeconfig built in the program.
 *
 * The PKI is made once, by the child component `ControlPlanePki`, and the same on every master: the
 * cluster CA, the front-proxy CA, the service-account key pair, the etcd CA (stacked etcd) and the
 * bootstrap token; kubeadm makes each master's own certificates from the CAs it finds in
 * /etc/kubernetes/pki. Keys, the
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
    const facts: HaControlPlaneFacts = {
      masterCount: countOf(args.masters),
      etcdTopology: args.etcd?.topology ?? EtcdTopology.Stacked,
      secretsEncryption: args.apiServer?.secretsEncryption?.enabled !== false,
      auditLog: args.apiServer?.audit?.enabled !== false,
    };
    super("hakube:index:HaControlPlane", name, facts, opts);
    const component = `HaControlPlane ${name}`;
    const check = argsChecker((a: HaControlPlaneArgs) => validateHaControlPlaneArgs(a), component, this);
    check.now(args);
    const known = knownArgs(args, check);
    const keyAlgorithm = args.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    const topology = args.etcd?.topology ?? EtcdTopology.Stacked;
    const pki = new ControlPlanePki(
      `${name}-pki`,
      {
        prefix: name,
        ca: args.ca,
        keyAlgorithm,
        serviceAccountKeyAlgorithm: args.serviceAccountKeyAlgorithm ?? DEFAULT_SERVICE_ACCOUNT_KEY_ALGORITHM,
        etcdCa: topology === EtcdTopology.Stacked,
        adminGroup: adminGroup(parseKubernetesVersion(args.kubernetesVersion)!.minor),
        encryptionKey: args.apiServer?.secretsEncryption?.enabled !== false,
      },
      { parent: this },
    );
    const ctx: ControlPlaneContext = {
      parent: this,
      name,
      known,
      s: known.apply((k) => resolveHaControlPlane(name, k)),
      pki,
      topology,
      hosts: controlPlaneHosts(args, component, known),
    };

    const shared = sharedMasterFiles(ctx, args);
    const prepares = prepare(ctx);
    const first = init(ctx, shared, prepares);
    const masters = joinMasters(ctx, shared, prepares, first);
    const workers = joinWorkers(ctx, prepares, masters, first.token);
    const ready = readiness(ctx, [...masters, ...workers]);

    // The kubeconfig and endpoint wait for the readiness gate: their consumers find a working cluster.
    this.kubeconfig = pulumi.secret(
      after(
        ready.stdout,
        pulumi
          .all([ctx.s, pki.ca.certPem, pki.admin.certPem, pki.admin.privateKeyPem])
          .apply(([x, caPem, certPem, keyPem]) =>
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
    this.provider = providerAndCni(ctx, this.kubeconfig, ready, args.cni);
    this.endpoint = after(
      ready.stdout,
      ctx.s.apply((x) => x.endpoint.hostPort),
    );
    this.caCertPem = pulumi.output(pki.ca.certPem);
    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      provider: this.provider,
      endpoint: this.endpoint,
      caCertPem: this.caCertPem,
    });
  }
}
