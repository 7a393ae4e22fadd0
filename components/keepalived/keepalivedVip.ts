import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { enforce } from "../errors";
import { COMMAND_DEFAULTS, secretConnection } from "../hosts";
import {
  renderKeepalivedConfigureScript,
  renderKeepalivedInstallScript,
  renderKeepalivedRemoveScript,
} from "./render/scripts";
import { resolveKeepalivedVip } from "./settings";
import { KeepalivedVipArgs } from "./types";
import { validateKeepalivedVipArgs } from "./validate";

/**
 * A virtual IP shared by hosts with keepalived (VRRPv3, unicast by default), for a control-plane
 * endpoint that stays at one address while masters fail.
 *
 * Per member, in order: `install` (keepalived, curl, the check user), then `configure` (check script,
 * systemd unit, keepalived.conf checked with `keepalived -t` on the host before it is used). The
 * configure steps run one member after another, so a change rolls through the members; deleting the
 * component (or a member) stops keepalived there and releases the VIP. How the election, the health
 * check and preemption behave is described in render/config.ts and README.md.
 */
export class KeepalivedVip extends pulumi.ComponentResource {
  /** The virtual IP, without prefix ("10.0.0.10"). */
  public readonly address: pulumi.Output<string>;
  /** address:port ("10.0.0.10:6443", "[fd00::10]:6443"), e.g. kubeadm's controlPlaneEndpoint. */
  public readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: KeepalivedVipArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:KeepalivedVip", name, {}, opts);
    enforce(validateKeepalivedVipArgs(args), `KeepalivedVip ${name}`, this);

    const resolved = resolveKeepalivedVip(name, args);
    let previous: pulumi.Resource | undefined;
    args.members.forEach((host, i) => {
      const s = resolved.members[i];
      const prefix = `${name}-${host.name}`;
      const connection = secretConnection(host.connection);
      const install = new remote.Command(
        `${prefix}-install`,
        {
          connection,
          ...COMMAND_DEFAULTS,
          create: renderKeepalivedInstallScript({
            component: name,
            name: host.name,
            method: resolved.method,
            binDir: resolved.binDir,
            needsCheckTools: resolved.needsCheckTools,
            scriptUser: s.scriptUser,
          }),
        },
        { parent: this },
      );
      const configure = new remote.Command(
        `${prefix}-configure`,
        {
          connection,
          ...COMMAND_DEFAULTS,
          create: renderKeepalivedConfigureScript(s),
          delete: renderKeepalivedRemoveScript(s),
        },
        { parent: this, dependsOn: previous ? [install, previous] : [install] },
      );
      previous = configure;
    });

    this.address = pulumi.output(resolved.vip);
    this.endpoint = pulumi.output(resolved.endpoint);
    this.registerOutputs({ address: this.address, endpoint: this.endpoint });
  }
}
