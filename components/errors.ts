import * as pulumi from "@pulumi/pulumi";
import { ValidationResult } from "./validation";

/**
 * Turn a validator's result into Pulumi's behaviour: warnings are logged on the component, errors become
 * one InputPropertiesError that lists every problem with its property path. Called synchronously in a
 * constructor, so nothing is created when the args are wrong.
 */
export function enforce(result: ValidationResult, component: string, resource?: pulumi.Resource): void {
  for (const w of result.warnings) {
    pulumi.log.warn(`${component}: ${w.message}`, resource);
  }
  if (result.errors.length > 0) {
    const lines = result.errors.map((e) => `  - ${e.message}`).join("\n");
    throw new pulumi.InputPropertiesError({
      message: `${component} has invalid arguments:\n${lines}`,
      errors: result.errors.map((e) => ({ propertyPath: e.path, reason: e.message })),
    });
  }
}
