import * as pulumi from "@pulumi/pulumi";
import { Problem, ValidationResult } from "./validation";

/**
 * The one error a component raises for invalid args, whether it finds them in its constructor or once
 * values given as Outputs resolve: an InputPropertiesError that lists every problem with its property path.
 */
export function invalidArguments(component: string, errors: readonly Problem[]): pulumi.InputPropertiesError {
  const lines = errors.map((e) => `  - ${e.message}`).join("\n");
  return new pulumi.InputPropertiesError({
    message: `${component} has invalid arguments:\n${lines}`,
    errors: errors.map((e) => ({ propertyPath: e.path, reason: e.message })),
  });
}

/**
 * The same error for args found invalid inside an apply, once Outputs resolved. Pulumi's serializer
 * prefixes `error serializing property "<name>": ` to a rejected input's error message, in place, once
 * per resource that awaited it (it rethrows the same object so that the error is reported once); this
 * error keeps its message as it is, so what the user reads is exactly the constructor's wording.
 */
export function lateInvalidArguments(
  component: string,
  errors: readonly Problem[],
): pulumi.InputPropertiesError {
  const error = invalidArguments(component, errors);
  const message = error.message;
  Object.defineProperty(error, "message", {
    get: () => message,
    set: () => undefined,
    enumerable: false,
    configurable: true,
  });
  return error;
}

/**
 * Turn a validator's result into Pulumi's behaviour: errors become one InputPropertiesError (and then no
 * warning is logged: warnings about args that are refused anyway are noise), otherwise each warning is
 * logged once on the component. Called synchronously in a constructor, so nothing is created when the
 * known args are wrong.
 */
export function enforce(
  result: ValidationResult,
  component: string,
  resource?: pulumi.Resource,
  said: Set<string> = new Set(),
): void {
  if (result.errors.length > 0) throw invalidArguments(component, result.errors);
  for (const w of result.warnings) {
    if (said.has(w.message)) continue;
    said.add(w.message);
    pulumi.log.warn(`${component}: ${w.message}`, resource);
  }
}

/** A component's argument checks: the same validator on the args as given and once their Outputs resolved. */
export interface ArgsChecker<A> {
  /** Validate the args as given: throw on errors, log each warning once (see {@link enforce}). */
  now(args: A): void;
  /** The args once resolved, validated again; warnings already logged are not repeated ({@link checkWhenKnown}). */
  whenKnown<K extends A>(known: pulumi.Output<K>): pulumi.Output<K>;
}

export function argsChecker<A>(
  validate: (args: A) => ValidationResult,
  component: string,
  resource?: pulumi.Resource,
): ArgsChecker<A> {
  const said = new Set<string>();
  return {
    now: (args) => enforce(validate(args), component, resource, said),
    whenKnown: (known) => checkWhenKnown(known, validate, component, resource, said),
  };
}

/**
 * The args once every value given as an Output or Promise has resolved, checked by the same validator
 * that ran in the constructor on the values known then. An error fails this Output with the same
 * InputPropertiesError (same message) the constructor would have thrown, so nothing that is rendered from
 * it, and no command that waits for it, runs. Warnings that the constructor did not already log are
 * logged now, so each fact is said once.
 *
 * @param known the args with their pending values resolved
 * @param said the warnings already logged for this component (the constructor's `enforce` fills it)
 */
export function checkWhenKnown<T>(
  known: pulumi.Output<T>,
  validate: (args: T) => ValidationResult,
  component: string,
  resource: pulumi.Resource | undefined,
  said: Set<string>,
): pulumi.Output<T> {
  return known.apply((args) => {
    const result = validate(args);
    if (result.errors.length > 0) throw lateInvalidArguments(component, result.errors);
    enforce(result, component, resource, said);
    return args;
  });
}
