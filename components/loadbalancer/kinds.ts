/**
 * What each LoadBalancer kind gives the component, and the lazy loading of the awsNlb kind: @pulumi/aws is
 * an optional peer dependency of hakube (84 MB that bare-metal users never need), required only when a
 * LoadBalancer of kind awsNlb is made.
 */
import type * as pulumi from "@pulumi/pulumi";
import { invalidArguments } from "../errors";
import type * as awsNlb from "./awsNlb";

/** The @pulumi/aws versions hakube is built and tested with (package.json's peerDependencies). */
export const AWS_PACKAGE_RANGE = "^7.48.0";

/** What a kind produces for the component's outputs. */
export interface KindOutputs {
  address: pulumi.Output<string>;
  /** address:port, before the gate of `ready`. */
  endpoint: pulumi.Output<string>;
  /** Resolves once the load balancer forwards (see `endpoint`). */
  ready: pulumi.Output<unknown>;
  dnsName: pulumi.Output<string | undefined>;
  zoneId: pulumi.Output<string | undefined>;
  securityGroupId: pulumi.Output<string | undefined>;
  targetGroupArn: pulumi.Output<string | undefined>;
}

/** How a module is looked up; the tests pass one that finds no @pulumi/aws. */
export type Resolver = (id: string) => string;

/**
 * The awsNlb kind's module, loaded on first use. Without @pulumi/aws installed this throws the component's
 * invalid-arguments error naming `kind` and what to install, before any resource of the component exists.
 */
export function loadAwsNlb(component: string, resolve: Resolver = require.resolve): typeof awsNlb {
  try {
    resolve("@pulumi/aws");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw e;
    throw invalidArguments(component, [
      {
        path: "kind",
        message:
          `kind "awsNlb" needs the @pulumi/aws package, which is not installed: ` +
          `npm install @pulumi/aws@"${AWS_PACKAGE_RANGE}" (an optional peer dependency of hakube)`,
      },
    ]);
  }
  // Loaded here, not imported at the top, so that a program without an NLB never loads @pulumi/aws.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("./awsNlb") as typeof awsNlb;
}
