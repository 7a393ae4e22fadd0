/**
 * The host-step layer: every component turns its hosts into ordered steps (install, configure,
 * member/join, remove, a final check), each step one @pulumi/command `remote.Command` per host, and chains
 * them here. A rolling operation (a new step, or a day-2 one) is one more {@link HostStep} with its rollout.
 */
import type * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { COMMAND_DEFAULTS } from "./hosts";

/** How one step runs across the hosts. */
export const Rollout = {
  /** On every host at once (each after its own previous step): installs, final checks. */
  Parallel: "parallel",
  /**
   * On one host after another, in host order: configuration that restarts a daemon (a change rolls
   * through the hosts, never down all at once) and quorum membership (etcd and kubeadm add one member at
   * a time; the step's script waits until the cluster is healthy again before it returns).
   */
  Serial: "serial",
} as const;
export type Rollout = (typeof Rollout)[keyof typeof Rollout];

/** A host the steps run on. */
export interface StepHost {
  /** The host's name in the commands' names: `<component>-<host>-<step>`. */
  name: string;
  connection: pulumi.Input<types.input.remote.ConnectionArgs>;
}

/** One step: a command on every host. */
export interface HostStep {
  /** The last part of each command's name. */
  step: string;
  rollout: Rollout;
  /** The command's inputs on host `i` (its connection and {@link COMMAND_DEFAULTS} are added). */
  args: (i: number) => Omit<remote.CommandArgs, "connection">;
  /** What every host's command waits for besides its host's previous step (and, serially, the previous host's). */
  after?: pulumi.Input<pulumi.Resource>[];
}

export interface HostStepOptions {
  /** The options of every command (its parent); dependsOn is the layer's. */
  opts: pulumi.CustomResourceOptions;
  /** What host `i`'s first step waits for: steps of an earlier chain on that host (its prepare). */
  hostAfter?: (i: number) => pulumi.Resource[];
  /** What the first host's serial steps wait for: the step before the chain (kubeadm init before the joins). */
  chainAfter?: pulumi.Resource;
}

/**
 * One command per host and step, named `<component>-<host>-<step>`. On each host the steps run in the
 * given order; a {@link Rollout.Serial} step runs on one host after the other, in host order, a
 * {@link Rollout.Parallel} step on every host at once. Each command's dependsOn lists its host's previous
 * step, then the previous host's same step (serial), then the step's `after`.
 *
 * @returns the commands by step, then by host: `const [installs, configures] = hostSteps(...)`
 */
export function hostSteps(
  component: string,
  hosts: readonly StepHost[],
  steps: readonly HostStep[],
  options: HostStepOptions,
): remote.Command[][] {
  const byStep: remote.Command[][] = steps.map(() => []);
  hosts.forEach((host, i) => {
    let own: pulumi.Resource[] = options.hostAfter?.(i) ?? [];
    steps.forEach((step, k) => {
      const previousHost = i > 0 ? byStep[k][i - 1] : options.chainAfter;
      const dependsOn = [
        ...own,
        ...(step.rollout === Rollout.Serial && previousHost ? [previousHost] : []),
        ...(step.after ?? []),
      ];
      const command = new remote.Command(
        `${component}-${host.name}-${step.step}`,
        { connection: host.connection, ...COMMAND_DEFAULTS, ...step.args(i) },
        dependsOn.length > 0 ? { ...options.opts, dependsOn } : options.opts,
      );
      byStep[k].push(command);
      own = [command];
    });
  });
  return byStep;
}
