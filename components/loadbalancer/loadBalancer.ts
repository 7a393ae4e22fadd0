import * as pulumi from "@pulumi/pulumi";
import { ArgsChecker, argsChecker } from "../errors";
import { checkedConnection, knownHosts } from "../hosts";
import { hostSteps, Rollout } from "../steps";
import { after } from "../outputs";
import { renderHaproxyReadyScript } from "./render/ready";
import {
  haproxyCaFiles,
  renderFileBundle,
  renderHaproxyConfigureScript,
  renderHaproxyInstallScript,
  renderHaproxyRemoveScript,
} from "./render/scripts";
import { resolveHaproxy } from "./settings";
import { KindOutputs, loadAwsNlb } from "./kinds";
import { AwsNlbArgs, HaproxyArgs, KnownHaproxyArgs, LoadBalancerArgs, LoadBalancerKind } from "./types";
import { validateLoadBalancerArgs } from "./validate";

/**
 * One load balancer in front of the API servers, `kind` haproxy or awsNlb.
 *
 * haproxy, per host in order: `install`, then `configure` (sysctl for a non-local bind address, the
 * backends' CA, haproxy.cfg checked with `haproxy -c` on the host, `systemctl reload`); the configure
 * steps run one host after another, then a `ready` check on every host (HAProxy answers). awsNlb: a
 * security group with its rules, the NLB (cross-zone), a TCP target group with HTTPS /readyz checks, a TCP
 * listener, and one attachment per target.
 */
export class LoadBalancer extends pulumi.ComponentResource {
  /**
   * host:port that clients and kubeadm's controlPlaneEndpoint use (HaControlPlane's `endpoint`). Resolves
   * only once the load balancer forwards: haproxy, after every host's `ready` check (HAProxy active,
   * listening on `port`, its health port answering, `port` accepting connections where the bind address
   * is the host's own); awsNlb, once the NLB, its listener and every target attachment exist (targets
   * turn healthy only when their API servers answer). A resource that takes it as an input waits for
   * that without `dependsOn`.
   */
  public readonly endpoint: pulumi.Output<string>;
  /** The address in `endpoint`: haproxy's bindAddress (or first host), or the NLB's DNS name. Not gated. */
  public readonly address: pulumi.Output<string>;
  /** awsNlb: the NLB's DNS name. */
  public readonly dnsName: pulumi.Output<string | undefined>;
  /** awsNlb: the NLB's canonical hosted zone, for a Route 53 alias record to `dnsName`. */
  public readonly zoneId: pulumi.Output<string | undefined>;
  /** awsNlb: the NLB's security group; allow it on the targets' `backendPort` (or use targetSecurityGroupIds). */
  public readonly securityGroupId: pulumi.Output<string | undefined>;
  /** awsNlb: the target group, to register API servers that are made later. */
  public readonly targetGroupArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hakube:index:LoadBalancer", name, {}, opts);
    const component = `LoadBalancer ${name}`;
    const check = argsChecker(validateLoadBalancerArgs, component, this);
    check.now(args);

    const out =
      args.kind === LoadBalancerKind.Haproxy
        ? this.haproxy(name, args, args.haproxy as HaproxyArgs, component, check)
        : loadAwsNlb(component).awsNlbResources(name, args, args.awsNlb as AwsNlbArgs, this);
    this.address = out.address;
    this.endpoint = after(out.ready, out.endpoint);
    this.dnsName = out.dnsName;
    this.zoneId = out.zoneId;
    this.securityGroupId = out.securityGroupId;
    this.targetGroupArn = out.targetGroupArn;
    this.registerOutputs({
      endpoint: this.endpoint,
      address: this.address,
      dnsName: this.dnsName,
      zoneId: this.zoneId,
      securityGroupId: this.securityGroupId,
      targetGroupArn: this.targetGroupArn,
    });
  }

  private haproxy(
    name: string,
    args: LoadBalancerArgs,
    h: HaproxyArgs,
    component: string,
    check: ArgsChecker<LoadBalancerArgs>,
  ): KindOutputs {
    // The args once every address (hosts, backends, bindAddress) is known, checked again by the same rules.
    const knownHaproxy: pulumi.Output<KnownHaproxyArgs> = pulumi
      .all([knownHosts(h.hosts), pulumi.all(h.backends.map((b) => b.address)), pulumi.output(h.bindAddress)])
      .apply(([hosts, addresses, bindAddress]) => ({
        ...h,
        hosts,
        backends: h.backends.map((b, i) => ({ name: b.name, address: addresses[i] })),
        bindAddress,
      }));
    const known = check.whenKnown(knownHaproxy.apply((haproxy) => ({ ...args, haproxy })));
    const s = known.apply((k) => resolveHaproxy(name, k, k.haproxy as KnownHaproxyArgs));
    const stdin =
      h.caCertPem === undefined
        ? undefined
        : pulumi.output(h.caCertPem).apply((pem) => renderFileBundle(haproxyCaFiles(pem)));
    const hosts = h.hosts.map((host, i) => ({
      name: host.name,
      connection: checkedConnection(host.connection, `haproxy.hosts[${i}].connection`, component, known),
    }));
    const [, configures] = hostSteps(
      name,
      hosts,
      [
        {
          step: "install",
          rollout: Rollout.Parallel,
          args: (i) => ({ create: s.apply((x) => renderHaproxyInstallScript(x, hosts[i].name)) }),
        },
        {
          // HAProxy reloads: a change rolls through the hosts.
          step: "configure",
          rollout: Rollout.Serial,
          args: (i) => ({
            create: s.apply((x) => renderHaproxyConfigureScript(x, hosts[i].name)),
            delete: s.apply((x) => renderHaproxyRemoveScript(x, hosts[i].name)),
            stdin,
          }),
        },
      ],
      { opts: { parent: this } },
    );
    // Every host answers, once every host is configured; again whenever one was reconfigured.
    const [ready] = hostSteps(
      name,
      hosts,
      [
        {
          step: "ready",
          rollout: Rollout.Parallel,
          after: configures,
          args: (i) => ({
            create: s.apply((x) => renderHaproxyReadyScript(x, hosts[i].name)),
            triggers: configures.map((c) => c.stdout),
          }),
        },
      ],
      { opts: { parent: this } },
    );
    const none = pulumi.output<string | undefined>(undefined);
    return {
      address: s.apply((x) => x.address),
      endpoint: s.apply((x) => x.endpoint),
      ready: pulumi.all(ready.map((r) => r.stdout)),
      dnsName: none,
      zoneId: none,
      securityGroupId: none,
      targetGroupArn: none,
    };
  }
}
