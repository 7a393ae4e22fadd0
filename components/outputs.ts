import * as pulumi from "@pulumi/pulumi";

/**
 * `value`, resolved only once `gate` has: whoever takes it as an input depends on the resources behind
 * `gate` too, so Pulumi runs them first (a consumer of EtcdCluster's endpoints waits for its health gate,
 * without `dependsOn`). The gate's own value and secretness are not carried over; `value`'s are.
 */
export function after<T>(
  gate: pulumi.Output<unknown>,
  value: pulumi.Input<T>,
): pulumi.Output<pulumi.Unwrap<T>> {
  return pulumi.all([pulumi.unsecret(gate), value]).apply(([, v]) => v as pulumi.Unwrap<T>);
}
