/**
 * The lab's stand-in for the @pulumi/tls and @pulumi/random providers.
 *
 * The lab runner executes Pulumi programs in-process with `pulumi.runtime.setMocks`; there is no
 * Pulumi CLI or provider plugin here. For the resource types listed in ./tls.ts and ./random.ts it
 * calls `create` below, which produces REAL keys, certificates and random values under exactly the
 * provider's input and output property names. This module is test tooling only: the published
 * library never imports it.
 */
import { randomResources } from "./random";
import { tlsResources } from "./tls";

/** What a resource's `create` returns: its id and its outputs (inputs echoed plus computed values). */
export interface Created {
  id: string;
  outputs: Record<string, unknown>;
}

/** One supported resource type. */
export interface ResourceImpl {
  /** Every input the provider's SDK may send; any other input with a value is rejected. */
  readonly inputs: readonly string[];
  /** Outputs the real provider marks secret. */
  readonly secretOutputs: readonly string[];
  create(read: InputReader): Promise<Created>;
}

/**
 * Typed access to a resource's plain-JS inputs. Every failure throws an Error naming the resource
 * type and the offending input. `null` and `undefined` both mean "not set".
 */
export class InputReader {
  constructor(
    readonly type: string,
    private readonly values: Readonly<Record<string, unknown>>,
  ) {}

  /** An Error naming the type and the input, e.g. `tls:...: input "ecdsaCurve" is required`. */
  error(name: string, problem: string): Error {
    return new Error(`${this.type}: input "${name}" ${problem}`);
  }

  has(name: string): boolean {
    return this.values[name] !== undefined && this.values[name] !== null;
  }

  optionalString(name: string): string | undefined {
    if (!this.has(name)) return undefined;
    const value = this.values[name];
    if (typeof value !== "string") throw this.error(name, `must be a string, got ${describe(value)}`);
    return value;
  }

  string(name: string, fallback?: string): string {
    const value = this.optionalString(name) ?? fallback;
    if (value === undefined) throw this.error(name, "is required");
    return value;
  }

  /** An integer of at least `min`; `fallback` (if given) when unset. */
  integer(name: string, min: number, fallback?: number): number {
    const value = this.has(name) ? this.values[name] : fallback;
    if (value === undefined) throw this.error(name, "is required");
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw this.error(name, `must be an integer, got ${describe(value)}`);
    }
    if (value < min) throw this.error(name, `must be at least ${min}, got ${value}`);
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    if (!this.has(name)) return undefined;
    const value = this.values[name];
    if (typeof value !== "boolean") throw this.error(name, `must be a boolean, got ${describe(value)}`);
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    return this.optionalBoolean(name) ?? fallback;
  }

  /** A list of strings; an empty list when unset. */
  strings(name: string): string[] {
    if (!this.has(name)) return [];
    const value = this.values[name];
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) {
      throw this.error(name, `must be a list of strings, got ${describe(value)}`);
    }
    return [...value];
  }

  optionalObject(name: string): Readonly<Record<string, unknown>> | undefined {
    if (!this.has(name)) return undefined;
    const value = this.values[name];
    if (typeof value !== "object" || Array.isArray(value)) {
      throw this.error(name, `must be an object, got ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  /** Throws for any input that has a value but is not in `known`. */
  rejectUnknown(known: readonly string[]): void {
    const unknown = Object.keys(this.values).filter((name) => this.has(name) && !known.includes(name));
    if (unknown.length > 0) {
      throw this.error(unknown[0], `is not supported by the lab provider (supported: ${known.join(", ")})`);
    }
  }

  /** The inputs that have a value, minus `omit` (e.g. write-only inputs the provider never stores). */
  echo(omit: readonly string[] = []): Record<string, unknown> {
    const entries = Object.entries(this.values).filter(([name]) => this.has(name) && !omit.includes(name));
    return Object.fromEntries(entries);
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  return value === null ? "null" : `${typeof value} ${JSON.stringify(value)}`;
}

const resources: Readonly<Record<string, ResourceImpl>> = { ...tlsResources, ...randomResources };

/** True if this module implements the resource type token, e.g. "tls:index/privateKey:PrivateKey". */
export function handles(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(resources, type);
}

function implementation(type: string): ResourceImpl {
  if (!handles(type)) {
    throw new Error(
      `${type}: not implemented by the lab providers (have: ${Object.keys(resources).join(", ")})`,
    );
  }
  return resources[type];
}

/**
 * Create the resource: returns { id, outputs } where outputs holds all inputs echoed plus the
 * computed outputs, named as the provider names them. Throws an Error naming the type and the bad
 * input for anything unsupported.
 */
export async function create(type: string, inputs: Record<string, unknown>): Promise<Created> {
  const impl = implementation(type);
  const read = new InputReader(type, inputs);
  read.rejectUnknown(impl.inputs);
  return impl.create(read);
}

/** Names of the outputs that the real provider marks secret, so the runner can wrap them as secrets. */
export function secretOutputs(type: string): string[] {
  return [...implementation(type).secretOutputs];
}
