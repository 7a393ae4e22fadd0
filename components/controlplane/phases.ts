/**
 * HaControlPlane's phases, one function each, in the order the constructor reads them: the checked args,
 * the files every master gets, prepare, init (and the token), the master joins, the worker joins, the
 * readiness gate, and the provider with the CNI. Every command goes through the host-step layer.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { remote } from "@pulumi/command";
import { ArgsChecker } from "../errors";
import { checkedConnection, COMMAND_DEFAULTS, knownHosts } from "../hosts";
import { renderFileBundle } from "../shell";
import { hostSteps, Rollout } from "../steps";
import { CNI_TIMEOUT_SECONDS } from "./defaults";
import { ControlPlanePki } from "./pki";
import { cniChart, cniChartValues } from "./render/cni";
import {
  masterFiles,
  MasterFileContents,
  renderAuditPolicy,
  renderBootstrapTokenSecret,
  renderEncryptionConfiguration,
  workerFiles,
} from "./render/files";
import { renderInitConfig, renderJoinConfig } from "./render/kubeadm";
import { renderPrepareScript } from "./render/prepare";
import { apiServerEtcdEndpoints } from "./settings";
import { renderInitScript, renderJoinScript, renderReadyScript, renderTokenScript } from "./render/scripts";
import {
  CniArgs,
  ControlPlaneSettings,
  EtcdTopology,
  HaControlPlaneArgs,
  KnownHaControlPlaneArgs,
} from "./types";

/** A master or worker with its checked connection. */
export interface ControlPlaneHost {
  name: string;
  connection: ReturnType<typeof checkedConnection>;
  master: boolean;
  /** Its index among the masters or among the workers. */
  index: number;
}

/** What every phase works from. */
export interface ControlPlaneContext {
  parent: pulumi.Resource;
  name: string;
  known: pulumi.Output<KnownHaControlPlaneArgs>;
  s: pulumi.Output<ControlPlaneSettings>;
  pki: ControlPlanePki;
  topology: EtcdTopology;
  /** The masters, then the workers. */
  hosts: ControlPlaneHost[];
}

/** The args once every Output in them resolved, checked again by the same rules: what is rendered. */
export function knownArgs(
  args: HaControlPlaneArgs,
  check: ArgsChecker<HaControlPlaneArgs>,
): pulumi.Output<KnownHaControlPlaneArgs> {
  const externalEtcd =
    (args.etcd?.topology ?? EtcdTopology.Stacked) === EtcdTopology.Stacked ? undefined : args.etcd;
  return check.whenKnown(
    pulumi
      .all([
        knownHosts(args.masters),
        knownHosts(args.workers ?? []),
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
}

/** Every host with its connection, which waits for the checked args: no command runs before they passed. */
export function controlPlaneHosts(
  args: HaControlPlaneArgs,
  component: string,
  known: pulumi.Output<unknown>,
): ControlPlaneHost[] {
  const host = (h: HaControlPlaneArgs["masters"][number], path: string, master: boolean, index: number) => ({
    name: h.name,
    connection: checkedConnection(h.connection, `${path}.connection`, component, known),
    master,
    index,
  });
  return [
    ...args.masters.map((h, i) => host(h, `masters[${i}]`, true, i)),
    ...(args.workers ?? []).map((h, i) => host(h, `workers[${i}]`, false, i)),
  ];
}

/** What every master receives besides its kubeadm configuration: the PKI, the audit policy, encryption. */
export function sharedMasterFiles(
  ctx: ControlPlaneContext,
  args: HaControlPlaneArgs,
): pulumi.Output<Omit<MasterFileContents, "kubeadmConfig">> {
  const { pki } = ctx;
  const externalEtcd = ctx.topology === EtcdTopology.Stacked ? undefined : args.etcd;
  const pems = pulumi.all({
    caCert: pki.ca.certPem,
    caKey: pki.ca.privateKeyPem,
    frontProxyCaCert: pki.frontProxyCa.certPem,
    frontProxyCaKey: pki.frontProxyCa.privateKeyPem,
    saKey: pki.serviceAccountKey.privateKeyPem,
    saPub: pki.serviceAccountKey.publicKeyPem,
    etcdCaCert: pki.etcdCa ? pki.etcdCa.certPem : externalEtcd?.caCertPem,
    etcdCaKey: pki.etcdCa?.privateKeyPem,
    etcdClientCert: externalEtcd?.clientCertPem,
    etcdClientKey: externalEtcd?.clientKeyPem,
    encryptionKey: pki.encryptionKey,
  });
  return pulumi.all([ctx.s, pems]).apply(([x, p]) => ({
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
}

/** Every host's `prepare` (runtime, kubelet, kubeadm), in parallel. */
export function prepare(ctx: ControlPlaneContext): remote.Command[] {
  const [prepares] = hostSteps(
    ctx.name,
    ctx.hosts,
    [
      {
        step: "prepare",
        rollout: Rollout.Parallel,
        args: (i) => {
          const { master, index } = ctx.hosts[i];
          return {
            create: ctx.s.apply((x) => renderPrepareScript(x, master ? x.masters[index] : x.workers[index])),
          };
        },
      },
    ],
    { opts: { parent: ctx.parent } },
  );
  return prepares;
}

/** `kubeadm init` on the first master, then `token`: the bootstrap token renewed for the joins. */
export function init(
  ctx: ControlPlaneContext,
  shared: pulumi.Output<Omit<MasterFileContents, "kubeadmConfig">>,
  prepares: remote.Command[],
): { init: remote.Command; token: remote.Command } {
  const { name, s, pki } = ctx;
  const first = ctx.hosts[0];
  const stacked = ctx.topology === EtcdTopology.Stacked;
  const initConfig = pulumi
    .all([ctx.known, s, pki.token])
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
      connection: first.connection,
      create: s.apply((x) => renderInitScript(x, x.masters[0])),
      stdin: masterBundle(ctx.topology, shared, initConfig),
      // The scripts print only paths and states; stdout stays out of the log as a second line of defence.
      logging: "stderr",
      ...COMMAND_DEFAULTS,
    },
    { parent: ctx.parent, dependsOn: [prepares[0]] },
  );
  const token = new remote.Command(
    `${name}-token`,
    {
      connection: first.connection,
      create: s.apply((x) => renderTokenScript(x, x.masters[0])),
      stdin: pulumi.secret(
        pki.token.apply((t) => renderBootstrapTokenSecret(t, `hakube HaControlPlane ${name} join token`)),
      ),
      logging: "stderr",
      // Run again whenever nodes are added, so that they join with a token valid for another 24 hours.
      triggers: [ctx.hosts.map((h) => h.name).join(",")],
      ...COMMAND_DEFAULTS,
    },
    { parent: ctx.parent, dependsOn: [init] },
  );
  return { init, token };
}

/** The other masters' `join`, one at a time after init (stacked etcd grows one member at a time). */
export function joinMasters(
  ctx: ControlPlaneContext,
  shared: pulumi.Output<Omit<MasterFileContents, "kubeadmConfig">>,
  prepares: remote.Command[],
  first: { init: remote.Command; token: remote.Command },
): remote.Command[] {
  const { s, pki } = ctx;
  const joiners = ctx.hosts.filter((h) => h.master).slice(1);
  const [joins] = hostSteps(
    ctx.name,
    joiners,
    [
      {
        step: "join",
        rollout: Rollout.Serial,
        after: [first.token],
        args: (j) => {
          const i = joiners[j].index;
          const config = pulumi
            .all([s, pki.token, pki.caCertHash])
            .apply(([x, t, h]) => renderJoinConfig(x, x.masters[i], { token: t, caCertHash: h }, true));
          return {
            create: s.apply((x) => renderJoinScript(x, x.masters[i], true)),
            stdin: masterBundle(ctx.topology, shared, config),
            logging: "stderr",
          };
        },
      },
    ],
    { opts: { parent: ctx.parent }, hostAfter: (j) => [prepares[joiners[j].index]], chainAfter: first.init },
  );
  return [first.init, ...joins];
}

/** The workers' `join`, in parallel, once every master has joined. */
export function joinWorkers(
  ctx: ControlPlaneContext,
  prepares: remote.Command[],
  masters: remote.Command[],
  token: remote.Command,
): remote.Command[] {
  const { s, pki } = ctx;
  const workers = ctx.hosts.filter((h) => !h.master);
  const firstWorker = ctx.hosts.length - workers.length;
  const [joins] = hostSteps(
    ctx.name,
    workers,
    [
      {
        step: "join",
        rollout: Rollout.Parallel,
        after: [masters[masters.length - 1], token],
        args: (i) => {
          const config = pulumi
            .all([s, pki.token, pki.caCertHash])
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
    { opts: { parent: ctx.parent }, hostAfter: (i) => [prepares[firstWorker + i]] },
  );
  return joins;
}

/** The readiness gate: the endpoint and every API server answer /readyz, every node is registered. */
export function readiness(ctx: ControlPlaneContext, nodes: remote.Command[]): remote.Command {
  return new remote.Command(
    `${ctx.name}-ready`,
    {
      connection: ctx.hosts[0].connection,
      create: ctx.s.apply((x) => renderReadyScript(x, x.masters[0])),
      // Run again whenever a node was set up again.
      triggers: nodes.map((c) => c.stdout),
      ...COMMAND_DEFAULTS,
    },
    { parent: ctx.parent, dependsOn: nodes },
  );
}

/** A Kubernetes provider on `kubeconfig`, and the CNI's Helm release through it; both after `ready`. */
export function providerAndCni(
  ctx: ControlPlaneContext,
  kubeconfig: pulumi.Output<string>,
  ready: remote.Command,
  cni: CniArgs | undefined,
): k8s.Provider {
  const provider = new k8s.Provider(
    `${ctx.name}-provider`,
    { kubeconfig },
    { parent: ctx.parent, dependsOn: [ready] },
  );
  if (cni) {
    const chart = cniChart(cni.kind, cni.repository);
    new k8s.helm.v3.Release(
      `${ctx.name}-cni`,
      {
        name: cni.kind,
        chart: chart.chart,
        version: cni.version,
        namespace: chart.namespace,
        createNamespace: chart.namespace !== "kube-system",
        repositoryOpts: { repo: chart.repository },
        values: ctx.s.apply((x) => ({ ...cniChartValues(cni.kind, x), ...(cni.values ?? {}) })),
        timeout: CNI_TIMEOUT_SECONDS,
      },
      { parent: ctx.parent, provider, dependsOn: [ready] },
    );
  }
  return provider;
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
