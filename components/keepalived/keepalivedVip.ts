import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { argsChecker } from "../errors";
import { checkedConnection, COMMAND_DEFAULTS, knownHosts } from "../hosts";
import { hostSteps, Rollout } from "../steps";
import { after } from "../outputs";
import { KeepalivedVipFacts } from "../facts";
import { renderVipCheckScript, renderVipProbeScript } from "./render/ready";
import {
  renderKeepalivedConfigureScript,
  renderKeepalivedInstallScript,
  renderKeepalivedRemoveScript,
} from "./render/scripts";
import { resolveKeepalivedVip, resolveVipAddress } from "./settings";
import { KeepalivedVipArgs, VipHealthCheckKind } from "./types";
import { validateKeepalivedVipArgs } from "./validate";

/**
 * A virtual IP shared by hosts with keepalived (VRRPv3, unicast by default), for a control-plane
 * endpoint that stays at one address while masters fail.
 *
 * Per member, in order: `install` (keepalived, curl, the check user), then `configure` (check script,
 * systemd unit, keepalived.conf checked with `keepalived -t` on the host before it is used). The
 * configure steps run one member after another, so a change rolls through the members; deleting the
 * component (or a member) stops keepalived there and releases the VIP. Then the final check: a `probe` on
 * every member (has the VIP settled, does its port accept connections) and a `check` that exactly one
 * member holds it. How the election, the health check and preemption behave is described in
 * render/config.ts and README.md.
 */
export class KeepalivedVip extends pulumi.ComponentResource {
  /**
   * The virtual IP, without prefix ("10.0.0.10"). Known at once, without waiting for anything: a
   * LoadBalancer's `bindAddress` takes it while keepalived is still being set up.
   */
  public readonly address: pulumi.Output<string>;
  /**
   * address:port ("10.0.0.10:6443", "[fd00::10]:6443"), e.g. HaControlPlane's `endpoint`. Resolves only
   * after the final check passed: exactly one member holds the VIP and, with `healthCheck.kind` haproxy
   * (HAProxy listens there), `port` accepts connections on it (not with apiServer or none: the API servers
   * behind it come after this component, through this very output). A resource
   * that takes it as an input therefore waits for a working VIP without `dependsOn`.
   */
  public readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: KeepalivedVipArgs, opts?: pulumi.ComponentResourceOptions) {
    const facts: KeepalivedVipFacts = {
      healthCheckKind: args.healthCheck?.kind ?? VipHealthCheckKind.ApiServer,
    };
    super("hakube:index:KeepalivedVip", name, facts, opts);
    const component = `KeepalivedVip ${name}`;
    const checker = argsChecker(validateKeepalivedVipArgs, component, this);
    checker.now(args);
    const known = checker.whenKnown(knownHosts(args.members).apply((members) => ({ ...args, members })));
    const resolved = known.apply((k) => resolveKeepalivedVip(name, k));
    const connections = args.members.map((host, i) =>
      checkedConnection(host.connection, `members[${i}].connection`, component, known),
    );

    const members = args.members.map((host, i) => ({ name: host.name, connection: connections[i] }));
    const [, configures] = hostSteps(
      name,
      members,
      [
        {
          step: "install",
          rollout: Rollout.Parallel,
          args: (i) => ({
            create: resolved.apply((r) => renderKeepalivedInstallScript(r.installs[i])),
          }),
        },
        {
          // keepalived restarts: a change rolls through the members.
          step: "configure",
          rollout: Rollout.Serial,
          args: (i) => ({
            create: resolved.apply((r) => renderKeepalivedConfigureScript(r.members[i])),
            delete: resolved.apply((r) => renderKeepalivedRemoveScript(r.members[i])),
          }),
        },
      ],
      { opts: { parent: this } },
    );

    // The final check, after every member runs keepalived; again whenever a member was reconfigured.
    const [probes] = hostSteps(
      name,
      members,
      [
        {
          step: "probe",
          rollout: Rollout.Parallel,
          after: configures,
          args: (i) => ({
            create: resolved.apply((r) => renderVipProbeScript(r.check, r.members[i].name)),
            triggers: configures.map((c) => c.stdout),
          }),
        },
      ],
      { opts: { parent: this } },
    );
    const check = new remote.Command(
      `${name}-check`,
      {
        connection: connections[0],
        ...COMMAND_DEFAULTS,
        create: resolved.apply((r) =>
          renderVipCheckScript(
            r.check,
            r.members.map((m) => m.name),
          ),
        ),
        stdin: pulumi.all(probes.map((p) => p.stdout)).apply((out) => out.join("\n")),
        triggers: probes.map((p) => p.stdout),
      },
      { parent: this, dependsOn: probes },
    );

    // From the args alone (validated above): no member address or step is waited for.
    this.address = pulumi.output(resolveVipAddress(args.address).address);
    this.endpoint = after(
      check.stdout,
      resolved.apply((r) => r.endpoint),
    );
    this.registerOutputs({ address: this.address, endpoint: this.endpoint });
  }
}
