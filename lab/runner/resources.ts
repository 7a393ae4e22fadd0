// What the lab runner can carry out, one handler per resource type:
//   command:remote:Command, command:remote:CopyToRemote, command:local:Command   (here, over SSH / locally)
//   tls:*, random:*                                                              (delegated to lab/providers)
//   pulumi:providers:*                                                           (explicit providers: an id only)
// Anything else is refused with an error naming the type and the resource.

import * as crypto from "node:crypto";
import {
  type CommandResult,
  commandFailure,
  type Logging,
  logsStderr,
  logsStdout,
  parseLogging,
  seconds,
} from "./output";
import { runLocal } from "./local";
import { copyToRemote } from "./sftp";
import { describeTarget, parseConnection, runRemote } from "./ssh";
import type { ResourceRecord } from "./state";
import { isPlainAsset, isRecord, type PropertyMap, stableStringify } from "./values";

/** Contract of lab/providers/index.ts (real TLS keys/certificates and random values, made in-process). */
export interface ProviderDelegate {
  handles(type: string): boolean;
  create(
    type: string,
    inputs: Record<string, unknown>,
  ): Promise<{ id: string; outputs: Record<string, unknown> }>;
  secretOutputs(type: string): string[];
}

/** What a handler may use while carrying out one operation. */
export interface OpContext {
  name: string;
  type: string;
  /** A line of the command's output (already redacted by the context). */
  output(line: string): void;
  info(line: string): void;
  warn(line: string): void;
  redact(text: string): string;
  countCommand(): void;
}

export interface Handler {
  /** Output keys the real provider marks secret. */
  secretOutputs: string[];
  create(ctx: OpContext, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }>;
  /** Absent: every change replaces the resource. */
  update?(ctx: OpContext, old: ResourceRecord, inputs: PropertyMap): Promise<PropertyMap>;
  /** Absent: deleting only forgets the resource. */
  delete?(ctx: OpContext, old: ResourceRecord): Promise<void>;
}

export class UnsupportedResourceError extends Error {}

/** The error for a resource type (or, with `what` = "function call", an invoke token) the lab cannot run. */
export function unsupported(type: string, name: string, what = `resource ${name}`): UnsupportedResourceError {
  return new UnsupportedResourceError(
    `the lab runner cannot carry out ${type} (${what}): only command, tls and random resources run in the lab`,
  );
}

/** Picks the handler of a custom resource type, or throws {@link UnsupportedResourceError}. */
export async function handlerFor(
  type: string,
  name: string,
  providers: () => Promise<ProviderDelegate>,
): Promise<Handler> {
  switch (type) {
    case "command:remote:Command":
      return remoteCommand;
    case "command:remote:CopyToRemote":
      return remoteCopy;
    case "command:local:Command":
      return localCommand;
  }
  if (type.startsWith("pulumi:providers:")) return explicitProvider;
  if (type.startsWith("tls:") || type.startsWith("random:")) {
    const delegate = await providers();
    if (delegate.handles(type)) return delegated(type, delegate);
  }
  throw unsupported(type, name);
}

function newId(name: string): string {
  return name + crypto.randomBytes(4).toString("hex");
}

function optString(inputs: PropertyMap, key: string): string | undefined {
  const v = inputs[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new Error(`${key} must be a string`);
  return v;
}

function stringMap(inputs: PropertyMap, key: string): Record<string, string> {
  const v = inputs[key];
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw new Error(`${key} must be a map of strings`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

/** PULUMI_COMMAND_STDOUT/STDERR from the previous run's outputs, when addPreviousOutputInEnv allows. */
function previousOutputEnv(inputs: PropertyMap, previous?: PropertyMap): Record<string, string> {
  if (!previous || inputs.addPreviousOutputInEnv === false) return {};
  const env: Record<string, string> = {};
  if (typeof previous.stdout === "string" && previous.stdout !== "")
    env.PULUMI_COMMAND_STDOUT = previous.stdout;
  if (typeof previous.stderr === "string" && previous.stderr !== "")
    env.PULUMI_COMMAND_STDERR = previous.stderr;
  return env;
}

function outputSinks(ctx: OpContext, logging: Logging) {
  return {
    onStdout: logsStdout(logging) ? (l: string) => ctx.output(l) : undefined,
    onStderr: logsStderr(logging) ? (l: string) => ctx.output(l) : undefined,
  };
}

function checkResult(ctx: OpContext, where: string, result: CommandResult, logging: Logging): void {
  if (result.exitCode !== 0) throw commandFailure(where, result, logging, ctx.redact);
}

// ---------------------------------------------------------------------------------------------------------
// command:remote:Command

async function runRemoteCommand(
  ctx: OpContext,
  inputs: PropertyMap,
  command: string,
  previous?: PropertyMap,
): Promise<{ stdout: string; stderr: string }> {
  const conn = parseConnection(inputs.connection);
  const logging = parseLogging(inputs.logging);
  ctx.countCommand();
  const result = await runRemote(conn, {
    command,
    stdin: optString(inputs, "stdin"),
    env: stringMap(inputs, "environment"),
    optionalEnv: previousOutputEnv(inputs, previous),
    ...outputSinks(ctx, logging),
    warn: (l) => ctx.warn(l),
  });
  const where = describeTarget(conn) + (conn.proxy ? ` via ${conn.proxy.host}` : "");
  ctx.info(`ran on ${where} in ${seconds(result.durationMs)}, exit code ${result.exitCode}`);
  checkResult(ctx, where, result, logging);
  return { stdout: result.stdout, stderr: result.stderr };
}

/** Runs one of a command resource's scripts (create, update or delete) where the resource says. */
type RunCommand = (
  ctx: OpContext,
  inputs: PropertyMap,
  command: string,
  previous?: PropertyMap,
) => Promise<{ stdout: string; stderr: string }>;

/**
 * A command resource as the provider runs it: create runs `create`; update runs `update` (or `create`),
 * or keeps the previous stdout and stderr when there is neither; delete runs `delete` if there is one.
 */
function commandHandler(secretOutputs: string[], run: RunCommand): Handler {
  return {
    secretOutputs,
    async create(ctx, inputs) {
      const create = optString(inputs, "create");
      const out = create === undefined ? { stdout: "", stderr: "" } : await run(ctx, inputs, create);
      return { id: newId(ctx.name), outputs: { ...inputs, ...out } };
    },
    async update(ctx, old, inputs) {
      const command = optString(inputs, "update") ?? optString(inputs, "create");
      const previous = { stdout: old.outputs.stdout ?? "", stderr: old.outputs.stderr ?? "" };
      const out = command === undefined ? previous : await run(ctx, inputs, command, old.outputs);
      return { ...inputs, ...out };
    },
    async delete(ctx, old) {
      const command = optString(old.inputs, "delete");
      if (command !== undefined) await run(ctx, old.inputs, command, old.outputs);
    },
  };
}

const remoteCommand = commandHandler(["connection"], runRemoteCommand);

// ---------------------------------------------------------------------------------------------------------
// command:remote:CopyToRemote

async function copy(ctx: OpContext, inputs: PropertyMap): Promise<void> {
  const conn = parseConnection(inputs.connection);
  const source = inputs.source;
  const remotePath = optString(inputs, "remotePath");
  if (!isPlainAsset(source)) throw new Error("source must be an asset or an archive");
  if (!remotePath) throw new Error("remotePath is required");
  ctx.countCommand();
  const ms = await copyToRemote(conn, source, remotePath, (l) => ctx.warn(l));
  ctx.info(`copied to ${describeTarget(conn)}:${remotePath} in ${seconds(ms)}`);
}

const remoteCopy: Handler = {
  secretOutputs: ["connection"],
  async create(ctx, inputs) {
    await copy(ctx, inputs);
    return { id: newId(ctx.name), outputs: { ...inputs } };
  },
  async update(ctx, old, inputs) {
    // As the provider: copy again only when the content (hash) or the destination changed.
    if (
      stableStringify(old.inputs.source) !== stableStringify(inputs.source) ||
      old.inputs.remotePath !== inputs.remotePath
    ) {
      await copy(ctx, inputs);
    }
    return { ...inputs };
  },
};

// ---------------------------------------------------------------------------------------------------------
// command:local:Command

async function runLocalCommand(
  ctx: OpContext,
  inputs: PropertyMap,
  command: string,
  previous?: PropertyMap,
): Promise<{ stdout: string; stderr: string }> {
  if (inputs.assetPaths !== undefined || inputs.archivePaths !== undefined) {
    throw new Error("assetPaths/archivePaths of command:local:Command are not supported by the lab runner");
  }
  const logging = parseLogging(inputs.logging);
  const interpreter = inputs.interpreter;
  if (
    interpreter !== undefined &&
    !(Array.isArray(interpreter) && interpreter.every((x) => typeof x === "string"))
  ) {
    throw new Error("interpreter must be a list of strings");
  }
  ctx.countCommand();
  const result = await runLocal({
    command,
    interpreter: interpreter as string[] | undefined,
    dir: optString(inputs, "dir"),
    env: { ...stringMap(inputs, "environment"), ...previousOutputEnv(inputs, previous) },
    stdin: optString(inputs, "stdin"),
    ...outputSinks(ctx, logging),
  });
  ctx.info(`ran locally in ${seconds(result.durationMs)}, exit code ${result.exitCode}`);
  checkResult(ctx, "localhost", result, logging);
  return { stdout: result.stdout, stderr: result.stderr };
}

const localCommand = commandHandler([], runLocalCommand);

// ---------------------------------------------------------------------------------------------------------
// pulumi:providers:* and delegated types

const explicitProvider: Handler = {
  secretOutputs: [],
  async create(_ctx, inputs) {
    return { id: crypto.randomUUID(), outputs: { ...inputs } };
  },
  async update(_ctx, _old, inputs) {
    return { ...inputs };
  },
};

function delegated(type: string, delegate: ProviderDelegate): Handler {
  return {
    secretOutputs: delegate.secretOutputs(type),
    async create(_ctx, inputs) {
      const { id, outputs } = await delegate.create(type, inputs);
      return { id, outputs: { ...inputs, ...outputs } };
    },
  };
}
